#!/usr/bin/python3
"""Image rows of the ORIGINAL LLaDA-V code under its other feature merges, on the tiny LLaDA-V of
make_llada_v_goldens.py: mm_patch_merge_type "spatial_maxpool2x2" (the tile map max-pooled 2x2, no
newline), "spatial" (the map as it is) and "spatial_unpad", each with and without "_nobase" (no base
view), and "pad" with "spatial_maxpool2x2" (one crop, no newline). LLaDA-V itself uses
spatial_unpad with anyres_max_4; models/llada-v-shapes uses spatial_maxpool2x2_nobase.

Usage (after make_llada_v_goldens.py's first two steps):
  /usr/bin/python3 tools/llada/make_llada_v_merge_goldens.py /tmp/llada-v-tiny tests/goldens/llada-v-tiny/merges \
      [--orig /tmp/llada-orig]

The config attributes are set on the loaded model (prepare_inputs_labels_for_multimodal reads them
at each call); every other step is the original code unchanged, as in make_llada_v_goldens.py.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_llada_v_goldens as G  # noqa: E402
import originals  # noqa: E402

VARIANTS = [("anyres_max_4", m) for m in ("spatial_maxpool2x2_nobase", "spatial_maxpool2x2", "spatial",
                                          "spatial_nobase", "spatial_unpad_nobase")]
VARIANTS.append(("pad", "spatial_maxpool2x2"))
CASES = ("photo1", "syn640x480", "syn100x900", "syn37x53")
FULL = "anyres_max_4-spatial_maxpool2x2_nobase"  # every row stored; rows 0, 4, 8, ... of the others


def image_rows(V, model, img, aspect, merge, dtype=None):
    cfg = model.config
    cfg.image_aspect_ratio, cfg.mm_patch_merge_type = aspect, merge
    pix = V.mm_utils.process_images([img], model.get_vision_tower().image_processor, cfg)
    images = [t if dtype is None else t.to(dtype) for t in pix]
    ids = torch.tensor([[G.IDS["bos"], 11, -200, 12]])
    with torch.no_grad():
        _, _, _, _, emb, _ = model.prepare_inputs_labels_for_multimodal(
            ids, None, None, None, None, images, ["image"], image_sizes=[img.size])
    return emb[0, 2:-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="folder written by make_tiny_llada_v.py (model/ and siglip-tiny/)")
    ap.add_argument("out")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    ap.add_argument("--images", default=G.IMAGES)
    a = ap.parse_args()
    V, mdir, tdir = G.start(a)
    model = G.load_model(V, mdir, tdir, torch.float32)
    model64 = G.load_model(V, mdir, tdir, torch.float64)
    cases = {name: (img, src) for name, img, src in G.image_cases(a.images) if name in CASES}
    out, worst = {}, 0.0
    for aspect, merge in VARIANTS:
        key = f"{aspect}-{merge}"
        out[key] = {"image_aspect_ratio": aspect, "mm_patch_merge_type": merge, "cases": {}}
        for name in CASES:
            img, src = cases[name]
            rows = image_rows(V, model, img, aspect, merge)
            err = float((image_rows(V, model64, img, aspect, merge, torch.float64) - rows.double()).abs().max())
            worst = max(worst, err)
            step = 1 if key == FULL else 4
            np.save(os.path.join(a.out, f"{key}-{name}.npy"), rows[::step].numpy())
            out[key]["cases"][name] = {"source": src, "n_image_rows": int(rows.shape[0]), "stored_every": step,
                                       "err_vs_f64": err}
            print(f"{key:36s} {name:12s} rows {rows.shape[0]:5d}  f32 vs f64 {err:.3g}", flush=True)
    with open(os.path.join(a.out, "merges.json"), "w") as f:
        json.dump({"what": "image rows ([rows, 16] float32, inputs_embeds between the prompt's ids) of the "
                   "original LLaDA-V code per (image_aspect_ratio, mm_patch_merge_type), on the tiny LLaDA-V",
                   "originals": originals.check(a.orig, repos=("ML-GSAI/LLaDA-V",)),
                   "max_err_f32_vs_f64": worst, "variants": out}, f, indent=1)


if __name__ == "__main__":
    main()
