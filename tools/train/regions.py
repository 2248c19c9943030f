"""Vision pretraining: dense targets that the image alone answers, for every merged vision token.

Dimple starts from Qwen2.5-VL's pretrained vision tower; ours starts from random weights, and in a
first run (48 minutes, 38,400 question-answer pairs) the language model never started to read a
tower that had to learn to see through it. This phase gives the tower a reason to see first: a
linear probe on its output (`vis_out`, one row per 28x28 region of the resized image, the rows the
projector turns into image tokens) predicts, for each region,
  - what covers it: the fraction of its pixels in each (shape, colour) class or the background,
  - whose centre lies in it: the (shape, colour) class of the object whose bounding-box centre falls
    inside, or none,
  - that object's rank from the left (1..4), or none.
The probe is discarded afterwards; only the tower's weights go on to the language phases.
"""
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

import data
import world
from dimple_ref import model as M

N_CLASSES = 1 + len(world.SHAPES) * len(world.COLORS)   # background (0), then shape-major classes
N_RANKS = 5                                             # none (0), then 1..4 from the left
PROBE_OUT = 2 * N_CLASSES + N_RANKS
REGION = 28                                             # pixels per merged token side


def object_class(o):
    return 1 + world.SHAPES.index(o.shape) * len(world.COLORS) + list(world.COLORS).index(o.color)


def placed_targets(scene, gw, gh, region, sx, sy, ox=0.0, oy=0.0):
    """(coverage [R, N_CLASSES] float, centre class [R] long, centre rank [R] long) of a gw x gh
    grid of `region`-pixel squares (raster order) over the scene drawn scaled by (sx, sy) and
    shifted by (ox, oy) pixels (what preprocessing did to the image before the tower saw it)."""
    rw, rh = gw * region, gh * region
    labels = Image.new("L", (rw, rh), 0)
    d = ImageDraw.Draw(labels)
    for o in scene.objects:
        x0, y0 = o.x * sx + ox, o.y * sy + oy
        x1, y1 = (o.x + o.size) * sx - 1 + ox, (o.y + o.size) * sy - 1 + oy
        c = object_class(o)
        if o.shape == "circle":
            d.ellipse([x0, y0, x1, y1], fill=c)
        elif o.shape == "square":
            d.rectangle([x0, y0, x1, y1], fill=c)
        else:
            d.polygon([((x0 + x1) / 2, y0), (x0, y1), (x1, y1)], fill=c)
    lab = np.asarray(labels).reshape(gh, region, gw, region).transpose(0, 2, 1, 3).reshape(gh * gw, -1)
    cover = np.stack([(lab == c).mean(1) for c in range(N_CLASSES)], 1)
    centre = np.zeros(gh * gw, np.int64)
    rank = np.zeros(gh * gw, np.int64)
    for k, o in enumerate(scene.objects):   # objects are sorted left to right
        cx, cy = (o.x + o.size / 2) * sx + ox, (o.y + o.size / 2) * sy + oy
        if not (0 <= cx < rw and 0 <= cy < rh):
            continue
        r = min(gh - 1, int(cy // region)) * gw + min(gw - 1, int(cx // region))
        if centre[r] == 0:   # two centres in one region (rare): the left one is kept
            centre[r], rank[r] = object_class(o), k + 1
    return torch.from_numpy(cover).float(), torch.from_numpy(centre), torch.from_numpy(rank)


def targets(scene, grid):
    """Region targets for an image preprocessed to `grid` (t, h, w): one per merged token."""
    gh, gw = int(grid[1]) // 2, int(grid[2]) // 2
    return placed_targets(scene, gw, gh, REGION, gw * REGION / scene.width, gh * REGION / scene.height)


class ImageBatches:
    """Endless batches of images of a split with their region targets (the images of data.Batches'
    seed stream for the split, so the language phases see other draws of the same world)."""

    def __init__(self, seed, split, images_per_batch, offset=10_000_000):
        self.seed, self.split, self.n, self.offset = seed, split, images_per_batch, offset

    def get(self, step):
        pvs, grids, cover, centre, rank = [], [], [], [], []
        for i in range(self.n):
            scene, _, raw, _ = data.scene_and_image(self.seed, self.split, self.offset + step * self.n + i)
            pv, grid = data.pixels(raw)
            c, ce, r = targets(scene, grid)
            pvs.append(pv)
            grids.append(grid)
            cover.append(c)
            centre.append(ce)
            rank.append(r)
        return dict(pixel_values=torch.cat(pvs), grids=np.stack(grids), cover=torch.cat(cover),
                    centre=torch.cat(centre), rank=torch.cat(rank))


def init_probe(width, seed):
    g = torch.Generator().manual_seed(seed + 17)
    o = width
    return {"probe.weight": torch.nn.Parameter(torch.randn(PROBE_OUT, o, generator=g) * 0.02),
            "probe.bias": torch.nn.Parameter(torch.zeros(PROBE_OUT))}


def features(m, batch):
    """The tower's output, one row per merged token: what the probe reads."""
    return M.vision_forward(m, batch["pixel_values"], torch.as_tensor(batch["grids"]))["vis_out"]


BALANCED = False


def probe_width(m):
    return m.cfg["vision_config"]["out_hidden_size"]


def probe_loss(feats, probe, batch, balanced=False):
    """Summed probe losses (coverage soft cross-entropy + centre + rank) of features [R, C], and
    accuracies of the centre and rank heads on regions that hold a centre (what counting and
    ordering need). `balanced`: the centre and rank losses average the regions that hold a centre
    and those that do not separately, then equally (at 14-pixel patches, 8 of ~1460 regions hold
    one, and an unbalanced probe learns to answer "none" everywhere)."""
    out = feats @ probe["probe.weight"].t() + probe["probe.bias"]
    cov_logits = out[:, :N_CLASSES]
    cen_logits = out[:, N_CLASSES:2 * N_CLASSES]
    rank_logits = out[:, 2 * N_CLASSES:]
    cov_loss = -(batch["cover"] * F.log_softmax(cov_logits, -1)).sum(-1).mean()
    cen_loss = F.cross_entropy(cen_logits, batch["centre"], reduction="none")
    rank_loss = F.cross_entropy(rank_logits, batch["rank"], reduction="none")
    if balanced:
        held = batch["centre"] > 0
        cen_loss = 0.5 * (cen_loss[held].mean() + cen_loss[~held].mean())
        rank_loss = 0.5 * (rank_loss[held].mean() + rank_loss[~held].mean())
    else:
        cen_loss, rank_loss = cen_loss.mean(), rank_loss.mean()
    with torch.no_grad():
        held = batch["centre"] > 0
        cen_pred, rank_pred = cen_logits.argmax(-1), rank_logits.argmax(-1)
        stats = {"centre_acc": float((cen_pred == batch["centre"]).float().mean()),
                 "centre_recall": float((cen_pred[held] == batch["centre"][held]).float().mean()),
                 "rank_recall": float((rank_pred[held] == batch["rank"][held]).float().mean())}
    return cov_loss + cen_loss + rank_loss, stats
