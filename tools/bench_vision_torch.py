#!/usr/bin/env python3
"""PyTorch peer of bench/bench_vision.cpp: the Qwen2.5-VL vision tower + merger + Dimple's
img_projector written in plain torch ops, random weights of the same shapes (hidden 1280, 16 heads,
inter 3420, out 3584, projector 3584), timed on the patches of a 448x448 and a 1024x768 picture.

bf16 mode keeps weights and activations in bf16 (RMSNorm, rotary and softmax in float32, as the
Hugging Face implementation does); f32 mode is float32 throughout. Attention runs per window / per
image segment, which is cheaper than the reference's full-sequence masked attention.

Torch builds whose BLAS is the generic reference one (Debian's: `torch.__config__.show()` says
BLAS_INFO=generic) run float32 products some 50x slower than their bundled oneDNN, which bf16
products already use. There, f32 weight products go through that oneDNN (`mkldnn_linear` on weights
converted once), so that the comparison measures more than the BLAS; attention products stay
plain torch.matmul.

Usage: /usr/bin/python3 tools/bench_vision_torch.py --threads 2 [--repeat 3] [--depth 4]
"""
import argparse
import time

import torch
import torch.nn.functional as F

HIDDEN, HEADS, INTER, OUT, LM_HIDDEN = 1280, 16, 3420, 3584, 3584
PATCH_DIM, MERGE, WINDOW_UNITS = 3 * 2 * 14 * 14, 2, 4
CASES = [("448x448", (1, 32, 32)), ("1024x768", (1, 54, 74))]  # smart_resize grids


def layout(t, h, w):
    """Window order of the merge units, window and image segment bounds (patches), rotary angles."""
    mh, mw = h // MERGE, w // MERGE
    units = torch.arange(t * mh * mw).reshape(t, mh, mw)
    order, cu_win = [], [0]
    for f in range(t):
        for r0 in range(0, mh, WINDOW_UNITS):
            for c0 in range(0, mw, WINDOW_UNITS):
                win = units[f, r0:r0 + WINDOW_UNITS, c0:c0 + WINDOW_UNITS].reshape(-1)
                order.append(win)
                cu_win.append(cu_win[-1] + win.numel() * MERGE * MERGE)
    cu_full = [f * h * w for f in range(t + 1)]
    dim = HIDDEN // HEADS // 2
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
    rows = torch.arange(h).reshape(mh, MERGE, 1, 1).expand(mh, MERGE, mw, MERGE)
    cols = torch.arange(w).reshape(1, 1, mw, MERGE).expand(mh, MERGE, mw, MERGE)
    rows = rows.permute(0, 2, 1, 3).reshape(-1).repeat(t)
    cols = cols.permute(0, 2, 1, 3).reshape(-1).repeat(t)
    angles = torch.cat([rows[:, None] * inv_freq, cols[:, None] * inv_freq], dim=1)
    return torch.cat(order), cu_win, cu_full, angles


GENERIC_BLAS = "BLAS_INFO=generic" in torch.__config__.show()


class Linear:
    def __init__(self, w, b=None):
        self.w, self.b = w, b
        if w.dtype == torch.float32 and GENERIC_BLAS:
            self.w = w.to_mkldnn()
            self.b = b.to_mkldnn() if b is not None else None

    def __call__(self, x):
        if self.w.is_mkldnn:
            return torch._C._nn.mkldnn_linear(x.contiguous().to_mkldnn(), self.w, self.b).to_dense()
        return F.linear(x, self.w, self.b)


def make_weights(depth, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, mean=0.0):
        return (torch.randn(*shape, generator=g) * 0.02 + mean).to(dtype)

    def lin(o, i):
        return Linear(rnd(o, i), rnd(o))

    blocks = [dict(norm1=rnd(HIDDEN, mean=1), norm2=rnd(HIDDEN, mean=1), qkv=lin(3 * HIDDEN, HIDDEN),
                   proj=lin(HIDDEN, HIDDEN), gate=lin(INTER, HIDDEN), up=lin(INTER, HIDDEN),
                   down=lin(HIDDEN, INTER)) for _ in range(depth)]
    merged = 4 * HIDDEN
    return dict(patch=Linear(rnd(HIDDEN, PATCH_DIM)), blocks=blocks, ln_q=rnd(HIDDEN, mean=1),
                m1=lin(merged, merged), m2=lin(OUT, merged), p1=lin(LM_HIDDEN, OUT),
                p2=lin(LM_HIDDEN, LM_HIDDEN), fullatt=[depth - 1])


def rms_norm(x, w, eps=1e-6):
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def rotate(x, cos, sin):  # x [N, heads, D]; rotate-half in float32
    xf = x.float()
    half = xf.shape[-1] // 2
    rot = torch.cat([-xf[..., half:], xf[..., :half]], dim=-1)
    return (xf * cos[:, None, :] + rot * sin[:, None, :]).to(x.dtype)


def block(x, b, cos, sin, cu):
    n = x.shape[0]
    d = HIDDEN // HEADS
    h = rms_norm(x, b["norm1"])
    qkv = b["qkv"](h).view(n, 3, HEADS, d)
    q, k, v = rotate(qkv[:, 0], cos, sin), rotate(qkv[:, 1], cos, sin), qkv[:, 2]
    out = torch.empty(n, HEADS, d, dtype=x.dtype)
    for s, e in zip(cu[:-1], cu[1:]):
        qs, ks, vs = q[s:e].transpose(0, 1), k[s:e].transpose(0, 1), v[s:e].transpose(0, 1)
        scores = torch.matmul(qs, ks.transpose(1, 2)) / d ** 0.5
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(x.dtype)
        out[s:e] = torch.matmul(probs, vs).transpose(0, 1)
    x = x + b["proj"](out.reshape(n, HIDDEN))
    h = rms_norm(x, b["norm2"])
    return x + b["down"](F.silu(b["gate"](h)) * b["up"](h))


def encode(W, pixels, grid, block_ms=None):
    order, cu_win, cu_full, angles = layout(*grid)
    n = pixels.shape[0]
    x = W["patch"](pixels)
    x = x.view(n // 4, 4, HIDDEN)[order].reshape(n, HIDDEN)
    emb = angles.view(n // 4, 4, -1)[order].reshape(n, -1)
    emb = torch.cat([emb, emb], dim=-1)
    cos, sin = emb.cos(), emb.sin()
    for i, b in enumerate(W["blocks"]):
        t0 = time.perf_counter()
        x = block(x, b, cos, sin, cu_full if i in W["fullatt"] else cu_win)
        if block_ms is not None:
            block_ms.append((time.perf_counter() - t0) * 1e3)
    m = rms_norm(x, W["ln_q"]).view(n // 4, 4 * HIDDEN)
    m = W["m2"](F.gelu(W["m1"](m)))
    m = m[torch.argsort(order)]
    return W["p2"](F.silu(W["p1"](m)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--modes", default="bf16,f32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, depth {args.depth} "
          f"(full attention: block {args.depth - 1})")
    with torch.inference_mode():
        for mode in args.modes.split(","):
            dtype = {"bf16": torch.bfloat16, "f32": torch.float32}[mode]
            W = make_weights(args.depth, dtype)
            for name, grid in CASES:
                n = grid[0] * grid[1] * grid[2]
                pixels = torch.randn(n, PATCH_DIM, generator=torch.Generator().manual_seed(7)).to(dtype)
                encode(W, pixels, grid)  # warm-up
                best = float("inf")
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    encode(W, pixels, grid)
                    best = min(best, (time.perf_counter() - t0) * 1e3)
                block_ms = []  # one more run, timing each block
                t0 = time.perf_counter()
                encode(W, pixels, grid, block_ms)
                traced = (time.perf_counter() - t0) * 1e3
                windowed = sum(block_ms[:-1]) / (args.depth - 1)
                print(f"{mode:5} {name:9} {n:5} patches  {best:9.1f} ms/image (best of {args.repeat})"
                      f"  window block {windowed:7.1f} ms  full block {block_ms[-1]:7.1f} ms"
                      f"  (traced run: blocks {sum(block_ms):.0f} of {traced:.0f} ms)", flush=True)


if __name__ == "__main__":
    main()
