"""Qwen2-VL image preprocessing (as the Dimple image processor does it), with PIL and numpy.

convert("RGB") -> smart_resize(factor 28) -> PIL BICUBIC resize on uint8 -> f32(u8 * (1/255))
computed in double -> (x - f32(mean)) / f32(std) in float32 -> 2 temporal frames -> patch rows in
(t, h/2, w/2, 2, 2) order, each row channel-major (C, T, 14, 14).
"""
import math

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def smart_resize(h, w, factor=28, min_pixels=3136, max_pixels=200704):
    """Target (h', w'): multiples of factor, area within [min_pixels, max_pixels]."""
    if h < factor or w < factor:
        raise ValueError(f"image {h}x{w} smaller than {factor}")
    if max(h, w) / min(h, w) > 200:
        raise ValueError(f"aspect ratio of {h}x{w} exceeds 200")
    hb = round(h / factor) * factor  # Python round: half to even
    wb = round(w / factor) * factor
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb = math.floor(h / beta / factor) * factor
        wb = math.floor(w / beta / factor) * factor
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb = math.ceil(h * beta / factor) * factor
        wb = math.ceil(w * beta / factor) * factor
    return hb, wb


def to_rgb_image(img):
    """Accept a PIL image, a path, or an (H, W, 3) uint8 array; return a PIL RGB image."""
    if isinstance(img, str):
        img = Image.open(img)
        img.load()
    if isinstance(img, np.ndarray):
        img = Image.fromarray(np.ascontiguousarray(img.astype(np.uint8)))
    return img.convert("RGB")


def resize_image(img, min_pixels=3136, max_pixels=200704, patch=14, merge=2):
    """Returns the resized uint8 (H', W', 3) array."""
    img = to_rgb_image(img)
    w, h = img.size
    hb, wb = smart_resize(h, w, patch * merge, min_pixels, max_pixels)
    if (hb, wb) != (h, w):
        img = img.resize((wb, hb), resample=Image.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def pixels_from_resized(arr, mean=CLIP_MEAN, std=CLIP_STD, patch=14, merge=2, tpatch=2):
    """uint8 (H, W, 3) already a multiple of patch*merge -> (pixel_values (N, C*T*p*p) f32, grid)."""
    x = (arr.astype(np.float64) * (1.0 / 255.0)).astype(np.float32)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    x = x.transpose(2, 0, 1)  # (C, H, W)
    C, H, W = x.shape
    frames = np.stack([x] * tpatch)  # (T, C, H, W): a single image is repeated
    gt, gh, gw = 1, H // patch, W // patch
    p = frames.reshape(gt, tpatch, C, gh // merge, merge, patch, gw // merge, merge, patch)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    rows = p.reshape(gt * gh * gw, C * tpatch * patch * patch)
    return np.ascontiguousarray(rows, dtype=np.float32), np.array([gt, gh, gw], dtype=np.int64)


def preprocess(img, min_pixels=3136, max_pixels=200704, mean=CLIP_MEAN, std=CLIP_STD):
    """Full pipeline for one image. Returns (pixel_values, grid_thw (3,), resized uint8 HWC)."""
    arr = resize_image(img, min_pixels, max_pixels)
    pv, grid = pixels_from_resized(arr, mean, std)
    return pv, grid, arr


def preprocess_many(images, **kw):
    """Several images: pixel rows concatenated, grids stacked (n_img, 3)."""
    pvs, grids = [], []
    for im in images:
        pv, g, _ = preprocess(im, **kw)
        pvs.append(pv)
        grids.append(g)
    return np.concatenate(pvs), np.stack(grids)


def load_preprocessor_config(path):
    import json
    with open(path) as f:
        c = json.load(f)
    size = c.get("size") or {}
    return {"min_pixels": c.get("min_pixels", size.get("min_pixels", 3136)),
            "max_pixels": c.get("max_pixels", size.get("max_pixels", 200704)),
            "mean": tuple(c.get("image_mean", CLIP_MEAN)), "std": tuple(c.get("image_std", CLIP_STD))}
