"""Vision pretraining targets for the toy LLaDA-V's SigLIP tower (regions.py's probe, per patch):
the stand-in for the pretrained SigLIP that LLaDA-V starts from. Each image gives its two crops,
the base view (the image squashed to 384x384) and the one tile (the image letterboxed into
384x384, llada_v_data.PINPOINTS), and the targets of every 14-pixel patch of each (27 x 27; the
last 6 pixel rows and columns are never seen by the tower)."""
import math

import torch

import data
import llada_v_data
import regions
from llada_v_ref import model as M


def crop_targets(scene):
    """Targets of the base view's patches, then of the tile's."""
    W, H = scene.width, scene.height
    base = regions.placed_targets(scene, M.SIDE, M.SIDE, M.PATCH, M.CROP / W, M.CROP / H)
    if M.CROP / W < M.CROP / H:
        nw, nh = M.CROP, min(math.ceil(H * (M.CROP / W)), M.CROP)
    else:
        nw, nh = min(math.ceil(W * (M.CROP / H)), M.CROP), M.CROP
    tile = regions.placed_targets(scene, M.SIDE, M.SIDE, M.PATCH, nw / W, nh / H, (M.CROP - nw) // 2,
                                  (M.CROP - nh) // 2)
    return [torch.cat(parts) for parts in zip(base, tile)]


class ImageBatches:
    """Endless batches of a split's images (data.py's stream, offset from the language phases')."""

    def __init__(self, seed, split, images_per_batch, offset=10_000_000):
        self.seed, self.split, self.n, self.offset = seed, split, images_per_batch, offset

    def get(self, step):
        pvs, cover, centre, rank = [], [], [], []
        for i in range(self.n):
            scene, _, raw, _ = data.scene_and_image(self.seed, self.split, self.offset + step * self.n + i)
            pv, _ = llada_v_data.pixels(raw)
            assert len(pv) == 2, "one tile per image (llada_v_data.PINPOINTS)"
            c, ce, r = crop_targets(scene)
            pvs.append(pv)
            cover.append(c)
            centre.append(ce)
            rank.append(r)
        return dict(pixel_values=torch.cat(pvs), cover=torch.cat(cover), centre=torch.cat(centre),
                    rank=torch.cat(rank))


def features(m, batch):
    """The tower's output (the kept layers, no post_layernorm), one row per patch of every crop."""
    f = M.tower_forward(m.w, m.sizes, batch["pixel_values"])
    return f.reshape(-1, f.shape[-1])


BALANCED = True   # regions.probe_loss: centres are rare among 14-pixel patches


def probe_width(m):
    return m.tcfg["hidden_size"]
