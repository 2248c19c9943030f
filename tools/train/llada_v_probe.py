#!/usr/bin/python3
"""Does a toy LLaDA-V read the picture? The colour of the only object of one-object scenes of the
validation split ("What color is the circle?": the question names the shape, never the colour),
and its shape ("What shape is the red one?"), predicted at the first decoding step: the
single-turn prompt, then MAX_ANSWER masks, as the engine decodes. Reports the accuracy of the
answer word and its cross-entropy; a model that ignores the picture sits at chance, colour 1 in 6
and ln 6 = 1.79, shape 1 in 3 and ln 3 = 1.10 (equally likely).

Why a probe beside the validation loss: the toy's runs stayed at chance on the picture for
thousands of steps while their loss fell (the answers' structure, the pads); this number moves only
when the picture is read. The shape apart: a run read colours for thousands of steps while its tower
did not encode shapes (a half-pretrained tower), and every question about one of several objects
names it by one of the two.

  /usr/bin/python3 tools/train/llada_v_probe.py STATE.pt [--items 64] [--kind colour|shape] [--blank]

STATE.pt: a state.pt of train.py --arch llada-v. --blank: the same questions with black pictures.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import data  # noqa: E402
import llada_v_data  # noqa: E402
import llada_v_objective  # noqa: E402
from llada_v_ref import model as M  # noqa: E402

ITEMS = 64


def items(tok, seed, n=ITEMS, kind="colour"):
    """n (pixel crops, (W, H), prompt ids with IMAGE_ID, answer token id) from the validation split's
    one-object scenes, in split order: the colour asked (kind "colour") or the shape ("shape")."""
    out, j = [], 0
    while len(out) < n:
        scene, _, raw, _ = data.scene_and_image(seed, "val", j)
        j += 1
        if len(scene.objects) != 1:
            continue
        obj = scene.objects[0]
        question, answer = ((f"What color is the {obj.shape}?", obj.color) if kind == "colour" else
                            (f"What shape is the {obj.color} one?", obj.shape))
        word = tok.encode(answer)
        if len(word) != 1:
            raise ValueError(f"{answer!r} is {len(word)} tokens: the probe scores one")
        pv, size = llada_v_data.pixels(raw)
        ids = llada_v_data.tokenize_with_images(tok, llada_v_data.first_prompt(question))
        out.append((pv, size, ids, word[0]))
    return out


def validation_items(tok, seed):
    """What validation scores (train.py): the colour items, then the shape items."""
    return {"colour": items(tok, seed), "shape": items(tok, seed, kind="shape")}


def validation_scores(m, probe_items):
    """{"probe_acc", "probe_ce"} (colour) and {"probe_shape_acc", "probe_shape_ce"}."""
    shape = score(m, probe_items["shape"])
    return score(m, probe_items["colour"]) | {"probe_shape_acc": shape["probe_acc"], "probe_shape_ce": shape["probe_ce"]}


def score(m, probe_items, blank=False):
    """{"probe_acc", "probe_ce"} of the answer word at the first answer position, every answer
    position masked."""
    hits, ce = 0, 0.0
    masks = [m.mask_id] * llada_v_objective.MAX_ANSWER
    with torch.no_grad():
        for pv, size, ids, colour in probe_items:
            pv = torch.zeros_like(pv) if blank else pv
            rows = M.images_rows(m.w, m.sizes, pv, [len(pv)], [size])
            x = M.splice(m.w, ids + masks, rows)
            logits = M.lm_forward(m.w, m.sizes, x[None], output_rows=(torch.tensor([0]),
                                                                      torch.tensor([len(x) - len(masks)])))
            hits += int(logits.argmax(-1)) == colour
            ce += float(F.cross_entropy(logits, torch.tensor([colour])))
    return {"probe_acc": hits / len(probe_items), "probe_ce": ce / len(probe_items)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state")
    ap.add_argument("--items", type=int, default=ITEMS)
    ap.add_argument("--seed", type=int, default=1, help="the run's --seed (its validation split)")
    ap.add_argument("--blank", action="store_true")
    ap.add_argument("--kind", choices=("colour", "shape"), default="colour")
    ap.add_argument("--tokenizer", default=None)
    a = ap.parse_args()
    import archs
    arch = archs.ARCHS["llada-v"]
    tok, _, w, m = arch.checkpoint.fresh_model(a.tokenizer or arch.tokenizer, None, a.seed)
    st = torch.load(a.state)
    with torch.no_grad():
        for k, v in st["w"].items():
            w[k].copy_(v)
    r = score(m, items(tok, a.seed, a.items, a.kind), a.blank)
    chance = {"colour": (17, 1.79), "shape": (33, 1.10)}[a.kind]
    print(f"step {st['step']}: {a.kind} {100 * r['probe_acc']:.0f}% (chance {chance[0]}%), cross-entropy "
          f"{r['probe_ce']:.2f} (chance {chance[1]}){' with black pictures' if a.blank else ''}")


if __name__ == "__main__":
    main()
