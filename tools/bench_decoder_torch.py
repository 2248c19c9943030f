#!/usr/bin/env python3
"""The PyTorch peer of bench/bench_decoder: the same Dream-7B-width decoder layers (hidden 3584,
28 heads, 4 kv heads, inter 18944) in plain torch ops, random weights, one diffusion step over
prompt + answer without prefilling (whole sequence) and with it (last prompt token + answer on top
of cached keys/values), plus the lm_head (vocab 152064) on the answer rows.

  /usr/bin/python3 tools/bench_decoder_torch.py [--layers 2] [--prompt 512] [--answer 64]
                                                [--dtype bf16|f32] [--threads 2] [--reps 3]
"""
import argparse
import time

import torch

H, I, NH, NKV, D, V = 3584, 18944, 28, 4, 128, 152064


def rms(x, w, eps=1e-6):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


def layer_forward(p, x, cos, sin, past=None):
    L = x.shape[0]
    h = rms(x, p["n1"])
    q = (h @ p["q"].T + p["qb"]).view(L, NH, D).transpose(0, 1)
    k = (h @ p["k"].T + p["kb"]).view(L, NKV, D).transpose(0, 1)
    v = (h @ p["v"].T + p["vb"]).view(L, NKV, D).transpose(0, 1)
    q, k = rotate(q, cos, sin), rotate(k, cos, sin)
    if past is not None:
        k, v = torch.cat([past[0], k], 1), torch.cat([past[1], v], 1)
    k = k.repeat_interleave(NH // NKV, 0)
    v = v.repeat_interleave(NH // NKV, 0)
    a = torch.softmax((q @ k.transpose(1, 2)) / D ** 0.5, -1) @ v
    x = x + a.transpose(0, 1).reshape(L, NH * D) @ p["o"].T
    h = rms(x, p["n2"])
    return x + (torch.nn.functional.silu(h @ p["g"].T) * (h @ p["u"].T)) @ p["d"].T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--answer", type=int, default=64)
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    g = torch.Generator().manual_seed(0)

    def w(*shape):
        return (torch.randn(*shape, generator=g) * 0.02).to(dt)

    layers = [dict(n1=torch.ones(H, dtype=dt), n2=torch.ones(H, dtype=dt), q=w(NH * D, H), qb=w(NH * D),
                   k=w(NKV * D, H), kb=w(NKV * D), v=w(NKV * D, H), vb=w(NKV * D), o=w(H, NH * D),
                   g=w(I, H), u=w(I, H), d=w(H, I)) for _ in range(a.layers)]
    head = w(V, H)
    L, P = a.prompt + a.answer, a.prompt - 1
    inv = 1.0 / (1e6 ** (torch.arange(0, D, 2).float() / D))
    ang = torch.arange(L).float()[:, None] * inv[None]
    cos, sin = torch.cat([ang, ang], -1).cos().to(dt), torch.cat([ang, ang], -1).sin().to(dt)
    x0 = torch.randn(L, H, generator=g).to(dt)

    def full_step():
        x, kv = x0, []
        for p in layers:
            h = rms(x, p["n1"])
            k = rotate((h @ p["k"].T + p["kb"]).view(L, NKV, D).transpose(0, 1), cos, sin)
            v = (h @ p["v"].T + p["vb"]).view(L, NKV, D).transpose(0, 1)
            kv.append((k[:, :P], v[:, :P]))
            x = layer_forward(p, x, cos, sin)
        return x, kv

    with torch.no_grad():
        best_full = best_cached = best_head = 1e30
        for _ in range(a.reps):
            t = time.perf_counter()
            x, kv = full_step()
            best_full = min(best_full, time.perf_counter() - t)
            t = time.perf_counter()
            _ = x[P:P + a.answer] @ head.T
            best_head = min(best_head, time.perf_counter() - t)
        # full_step computed K/V once more than the plain forward needs; time the forward alone too
        for _ in range(a.reps):
            t = time.perf_counter()
            xx = x0
            for p in layers:
                xx = layer_forward(p, xx, cos, sin)
            best_full = min(best_full, time.perf_counter() - t)
        for _ in range(a.reps):
            t = time.perf_counter()
            xx = x0[P:]
            for p, past in zip(layers, kv):
                xx = layer_forward(p, xx, cos[P:], sin[P:], past)
            best_cached = min(best_cached, time.perf_counter() - t)
    print(f"torch {torch.__version__} {a.dtype}, {a.threads} threads, prompt {a.prompt} + answer {a.answer}, "
          f"{a.layers} layers, best of {a.reps}")
    print(f"  no prefilling ({L} tokens): {1e3 * best_full / a.layers:8.1f} ms per step per layer")
    print(f"  prefilling    ({L - P} tokens): {1e3 * best_cached / a.layers:8.1f} ms per step per layer")
    print(f"  lm_head on {a.answer} rows:          {1e3 * best_head:8.1f} ms per step")


if __name__ == "__main__":
    main()
