#!/usr/bin/python3
"""How linearly readable shape and colour are in a model's image features: a linear probe is fitted
on the feature rows of object centres (regions.py's centre targets) of training images and scored
on validation images, once for the shape and once for the colour.

  /usr/bin/python3 tools/train/probe_features.py STATE.pt [--key vis_out|projected]

STATE.pt: a vision.pt of pretrain_vision.py or a state.pt of train.py (weights under "w"; missing
ones keep their initial values). vis_out is the tower's output, projected the image tokens.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import checkpoint  # noqa: E402
import regions  # noqa: E402
import world  # noqa: E402
from dimple_ref import model as M  # noqa: E402

CHUNK = 10   # images per vision forward (its full-attention masks grow with the square of the rows)


def centre_features(m, split, n_images, key):
    """(features, shape index, colour index) of every object centre in n_images of a split."""
    feats, shapes, colours = [], [], []
    batches = regions.ImageBatches(1, split, CHUNK, offset=20_000_000)
    for j in range(n_images // CHUNK):
        b = batches.get(j)
        with torch.no_grad():
            f = M.vision_forward(m, b["pixel_values"], torch.as_tensor(b["grids"]))[key]
        held = b["centre"] > 0
        cls = b["centre"][held] - 1
        feats.append(f[held])
        shapes.append(cls // len(world.COLORS))
        colours.append(cls % len(world.COLORS))
    return torch.cat(feats), torch.cat(shapes), torch.cat(colours)


def probe_accuracy(x_train, y_train, x_test, y_test, classes, steps=300):
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    lin = torch.nn.Linear(x_train.shape[1], classes)
    opt = torch.optim.Adam(lin.parameters(), 1e-2, weight_decay=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(lin((x_train - mu) / sd), y_train).backward()
        opt.step()
    with torch.no_grad():
        return float((lin((x_test - mu) / sd).argmax(-1) == y_test).float().mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state")
    ap.add_argument("--key", choices=("vis_out", "projected"), default="projected")
    ap.add_argument("--train-images", type=int, default=300)
    ap.add_argument("--val-images", type=int, default=100)
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "dimple-shapes"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    _, _, w, m = checkpoint.fresh_model(a.tokenizer, None, 1)
    with torch.no_grad():
        for k, v in torch.load(a.state)["w"].items():
            w[k].copy_(v)
    xs, ss, cs = centre_features(m, "train", a.train_images, a.key)
    xv, sv, cv = centre_features(m, "val", a.val_images, a.key)
    shape = probe_accuracy(xs, ss, xv, sv, len(world.SHAPES))
    colour = probe_accuracy(xs, cs, xv, cv, len(world.COLORS))
    print(f"{a.state} [{a.key}]: shape {100 * shape:.0f}%, colour {100 * colour:.0f}% "
          f"({len(sv)} validation objects)")


if __name__ == "__main__":
    main()
