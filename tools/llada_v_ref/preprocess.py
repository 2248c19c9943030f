"""LLaDA-V's image preprocessing (spec llada.md section 3) with PIL, as the original runs it:
the best grid resolution, the image resized into it on a black canvas and cut into 384-pixel
tiles, the base view (the whole image squashed to 384x384) first; pixels (x / 255 - 0.5) / 0.5."""
import math

import numpy as np
import torch
from PIL import Image

from .model import CROP, select_best_resolution


def resize_and_pad(img, w, h):
    W, H = img.size
    if w / W < h / H:
        nw, nh = w, min(math.ceil(H * (w / W)), h)
    else:
        nw, nh = min(math.ceil(W * (h / H)), w), h
    canvas = Image.new("RGB", (w, h), (0, 0, 0))
    canvas.paste(img.resize((nw, nh)), ((w - nw) // 2, (h - nh) // 2))
    return canvas


def crops_u8(img, pinpoints):
    """[base, tile 0, ...] as uint8 HWC arrays (what the SigLIP processor receives)."""
    img = img.convert("RGB")
    w, h = select_best_resolution(img.size, pinpoints)
    padded = np.asarray(resize_and_pad(img, w, h))
    tiles = [padded[y:y + CROP, x:x + CROP] for y in range(0, h, CROP) for x in range(0, w, CROP)]
    return [np.asarray(img.resize((CROP, CROP)))] + tiles


def pixels(crops):
    """[N, 3, 384, 384] float32 pixel values of uint8 HWC crops."""
    x = np.stack(crops).astype(np.float64) / 255
    return torch.from_numpy(((x.astype(np.float32) - 0.5) / 0.5).transpose(0, 3, 1, 2).copy())


def preprocess(img, pinpoints):
    """(pixel values [1 + tiles, 3, 384, 384], (W, H)) of a PIL image."""
    return pixels(crops_u8(img, pinpoints)), img.size
