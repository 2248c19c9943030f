#!/usr/bin/python3
"""Checks our LLaDA-V (model.py, preprocess.py) against the original code's outputs in
tests/goldens/llada-v-tiny, on the tiny model tools/llada/make_tiny_llada_v.py rebuilds:
preprocessing (SHA-256 of every crop, bit-exact), tower + projector per crop, the image rows
(unpad, image_newline), the LM's hidden states and logits, on two images (2 tiles, 1 tile, and 6
tiles resampled by anyres_max) and a text-only and an image prompt; then the image rows of the
other anyres merges (merges/: maxpool2x2, spatial, each with and without the base view) on four.

  /usr/bin/python3 tools/llada/make_tiny_llada_v.py /tmp/llada-v-tiny
  /usr/bin/python3 tools/llada_v_ref/check_goldens.py /tmp/llada-v-tiny
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from dimple_ref import safetensors_io as S  # noqa: E402
from llada_v_ref import model as M  # noqa: E402
from llada_v_ref import preprocess as P  # noqa: E402

GOLD = os.path.join(ROOT, "tests", "goldens", "llada-v-tiny")
TOL = 1e-4   # float32 against float32: the goldens' own f64 error is ~5e-6


def synthetic(W, H):
    """The goldens' synthetic image (vision.json synthetic_rule): a 3x2 grid resampled (t = 1.163)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.int64)
    rgb = np.stack([(3 * x + 5 * y) % 256, (7 * (x ^ y)) % 256, (x * y // 64) % 256], -1).astype(np.uint8)
    return Image.fromarray(rgb)


def load(folder):
    cfg = json.load(open(os.path.join(folder, "model", "config.json")))
    tower = json.load(open(os.path.join(folder, "siglip-tiny", "config.json")))
    w = {k: torch.from_numpy(np.ascontiguousarray(S.to_float(dt, a)))
         for k, (dt, a) in S.read_folder(os.path.join(folder, "model")).items()}
    return w, M.Sizes(cfg, tower)


def close(name, got, want, tol=TOL):
    err = float((got - torch.as_tensor(want)).abs().max() / max(1.0, float(np.abs(want).max())))
    print(f"{name:40s} max error {err:.2e} (relative to max(1, |golden|))")
    assert err < tol, f"{name}: {err} over {tol}"


def check_merges(w, s):
    """merges/merges.json's anyres variants (make_llada_v_merge_goldens.py), rows as stored."""
    gold = os.path.join(GOLD, "merges")
    variants = json.load(open(os.path.join(gold, "merges.json")))["variants"]
    for key, v in variants.items():
        if not v["image_aspect_ratio"].startswith("anyres_max_"):
            continue  # "pad": one crop, which our training never uses
        s.tiles, s.base = M.merge_type(v["mm_patch_merge_type"])
        for name, c in v["cases"].items():
            if name == "photo1":
                img = Image.open(os.path.join(ROOT, "tests", "data", "images", "1_resize.jpg")).convert("RGB")
            else:
                img = synthetic(*(int(n) for n in name[3:].split("x")))
            with torch.no_grad():
                projected = M.project(w, M.tower_forward(w, s, P.pixels(P.crops_u8(img, s.pinpoints))))
                rows = M.image_rows(w, s, projected, img.size)
            assert rows.shape[0] == c["n_image_rows"], f"{key} {name}: {rows.shape[0]} rows, not {c['n_image_rows']}"
            close(f"{key} {name}", rows[::c["stored_every"]], np.load(os.path.join(gold, f"{key}-{name}.npy")))


def main():
    torch.set_num_threads(1)
    w, s = load(sys.argv[1])
    cases = json.load(open(os.path.join(GOLD, "vision.json")))["cases"]
    rows = {}
    for name, img in (("photo1", Image.open(os.path.join(ROOT, "tests", "data", "images", "1_resize.jpg"))),
                      ("photo3", Image.open(os.path.join(ROOT, "tests", "data", "images", "3_resize.jpg"))),
                      ("syn1024x768", synthetic(1024, 768))):
        crops = P.crops_u8(img, s.pinpoints)
        sha = [hashlib.sha256(np.ascontiguousarray(c).tobytes()).hexdigest() for c in crops]
        assert sha == cases[name]["crop_u8_sha256"], f"{name}: crops differ from the original's"
        pv = P.pixels(crops)
        psha = [hashlib.sha256(p.numpy().tobytes()).hexdigest() for p in pv]
        assert psha == cases[name]["pixel_f32_sha256"], f"{name}: pixel values differ"
        print(f"{name}: {len(crops)} crops and their pixel values bit-identical")
        with torch.no_grad():
            projected = M.project(w, M.tower_forward(w, s, pv))
            if os.path.exists(os.path.join(GOLD, f"{name}_projected.npy")):
                close(f"{name} projected", projected, np.load(os.path.join(GOLD, f"{name}_projected.npy")))
            rows[name] = M.image_rows(w, s, projected, img.size)
        close(f"{name} image rows", rows[name], np.load(os.path.join(GOLD, f"{name}_image_rows.npy")))
    for case, image in (("text", None), ("image", "photo3")):
        ids = np.load(os.path.join(GOLD, f"lm_{case}_input_ids.npy"))[0].tolist()
        with torch.no_grad():
            embeds = M.splice(w, ids, [rows[image]] if image else [])
            close(f"lm {case} inputs_embeds", embeds, np.load(os.path.join(GOLD, f"lm_{case}_inputs_embeds.npy")))
            logits = M.lm_forward(w, s, embeds[None])[0]
        close(f"lm {case} logits of the last row", logits[-1], np.load(os.path.join(GOLD, f"lm_{case}_logits_last_row.npy")))
        top = np.load(os.path.join(GOLD, f"lm_{case}_top8_logits.npy"))
        top_ids = np.load(os.path.join(GOLD, f"lm_{case}_top8_ids.npy"))
        close(f"lm {case} top-8 logits of every row", torch.gather(logits, 1, torch.from_numpy(top_ids)), top)
    check_merges(w, s)
    print("all checks passed")


if __name__ == "__main__":
    main()
