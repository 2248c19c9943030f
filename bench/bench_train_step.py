#!/usr/bin/python3
"""Seconds per training step of tools/train on this CPU, float32 against bfloat16 products
(train.py --bf16), one thread: the vision pretraining step (pretrain_vision.py: 16 images) and the
language steps (train.py: 4 images x 4 questions, autoregressive and diffusion), on the shapes
model's shape; and the peer, torch's own matrix product at a shape of that step, in GFLOP/s.

  OMP_NUM_THREADS=1 /usr/bin/python3 bench/bench_train_step.py [--steps 40]
"""
import argparse
import os
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import checkpoint  # noqa: E402
import data  # noqa: E402
import objectives  # noqa: E402
import regions  # noqa: E402

TOKENIZER = os.path.join(ROOT, "models", "dimple-shapes")
WARMUP = 5


def timed_steps(loss_fn, opt, batches, steps, bf16):
    """Mean seconds of an optimizer step (forward, backward, AdamW), batches made beforehand."""
    total = 0.0
    for i in range(WARMUP + steps):
        t = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            lo = loss_fn(batches[i % len(batches)])
        lo.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= WARMUP:
            total += time.perf_counter() - t
    return total / steps


def vision_step(steps, bf16):
    _, cfg, w, m = checkpoint.fresh_model(TOKENIZER, None, 1)
    probe = regions.init_probe(cfg, 1)
    params = [v for k, v in w.items() if k.startswith("visual.")] + list(probe.values())
    for k, v in w.items():
        v.requires_grad_(k.startswith("visual."))
    batches = [regions.ImageBatches(1, "train", 16).get(i) for i in range(8)]
    return timed_steps(lambda b: regions.loss(m, probe, b)[0], torch.optim.AdamW(params, lr=1e-4),
                       batches, steps, bf16)


def language_step(objective, steps, bf16):
    tok, cfg, w, m = checkpoint.fresh_model(TOKENIZER, '{"rope_theta": 50.0}', 1)
    batches = [data.Batches(tok, 1, "train", 4, 4).get(i) for i in range(8)]
    gen = torch.Generator().manual_seed(0)
    return timed_steps(lambda b: objectives.loss(m, b, objective, gen)[0],
                       torch.optim.AdamW(list(w.values()), lr=1e-4), batches, steps, bf16)


def matmul_gflops(dtype, reps=50):
    a, b = torch.randn(1920, 128, dtype=dtype), torch.randn(128, 384, dtype=dtype)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * 1920 * 128 * 384 * reps / (time.perf_counter() - t) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=40)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, one thread, {a.steps} steps after {WARMUP} (data made beforehand)")
    print(f"{'step':28s} {'f32 s':>8s} {'bf16 s':>8s} {'f32/bf16':>9s}")
    for name, fn in (("vision pretraining (16 img)", lambda bf: vision_step(a.steps, bf)),
                     ("language, autoregressive", lambda bf: language_step("autoregressive", a.steps, bf)),
                     ("language, diffusion", lambda bf: language_step("diffusion", a.steps, bf))):
        f32, bf16 = fn(False), fn(True)
        print(f"{name:28s} {f32:8.4f} {bf16:8.4f} {f32 / bf16:9.2f}", flush=True)
    f, b = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"peer: torch matmul 1920x128 @ 128x384: f32 {f:.0f} GFLOP/s, bf16 {b:.0f} GFLOP/s ({b / f:.2f}x)")


if __name__ == "__main__":
    main()
