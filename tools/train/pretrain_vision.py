#!/usr/bin/python3
"""Pretrains the vision tower on region targets (regions.py): the stand-in for the pretrained
Qwen2.5-VL tower that Dimple starts from. Both training recipes then start from its weights
(train.py --vision-init), so the comparison between them stays at equal budget.

  /usr/bin/python3 tools/train/pretrain_vision.py OUT_DIR --steps 3000 --images 16

OUT_DIR receives log.jsonl (a line per step, probe accuracies on fixed validation images every
--val-every steps), vision.pt (the tower's weights and the probe, rewritten every --save-every
seconds and at the end) and probe.png. --resume continues from OUT_DIR/vision.pt (its weights, probe
and step; fresh AdamW moments, so the rate warms up again), e.g. a run a session's end cut short.
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import archs  # noqa: E402
import malloc_env  # noqa: E402
import regions  # noqa: E402
from train import lr_at, progress  # noqa: E402


def save(out, arch, w, probe, step):
    state = {"w": {k: v.detach() for k, v in w.items() if k.startswith(arch.tower)},
             "probe": {k: v.detach() for k, v in probe.items()}, "step": step}
    torch.save(state, os.path.join(out, "vision.pt.tmp"))
    os.replace(os.path.join(out, "vision.pt.tmp"), os.path.join(out, "vision.pt"))


def plot(log_path, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    recs = [json.loads(line) for line in open(log_path)]
    val = [r for r in recs if "val_loss" in r]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot([r["step"] for r in recs], [r["loss"] for r in recs], lw=0.5, label="train")
    a.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="validation")
    a.set_xlabel("step")
    a.set_ylabel("probe loss")
    a.set_yscale("log")
    a.legend()
    for key in ("centre_recall", "rank_recall"):
        b.plot([r["step"] for r in val], [r["val_" + key] for r in val], "o-", label=key.replace("_", " "))
    b.set_xlabel("step")
    b.set_ylabel("accuracy on regions holding an object centre")
    b.set_ylim(0, 1)
    b.legend()
    fig.suptitle("vision tower pretraining (region probe)")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--arch", choices=sorted(archs.ARCHS), default="dimple")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--images", type=int, default=16, help="images per batch")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bf16", action="store_true", help="matrix products in bfloat16 (as train.py --bf16)")
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--val-images", type=int, default=64)
    ap.add_argument("--save-every", type=float, default=300, help="seconds between checkpoints")
    ap.add_argument("--tokenizer", default=None, help="the tokenizer's folder (default: the --arch model's)")
    ap.add_argument("--shape", default=None, help="JSON overrides of checkpoint.SHAPE (tests)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT_DIR/vision.pt")
    a = ap.parse_args()
    malloc_env.keep_freed_memory()
    arch = archs.ARCHS[a.arch]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    _, cfg, w, m = arch.checkpoint.fresh_model(a.tokenizer or arch.tokenizer, a.shape, a.seed)
    probe = regions.init_probe(arch.regions.probe_width(m), a.seed)
    start, log_path = 0, os.path.join(a.out, "log.jsonl")
    if a.resume and os.path.exists(os.path.join(a.out, "vision.pt")):
        st = torch.load(os.path.join(a.out, "vision.pt"))
        with torch.no_grad():
            for k, v in list(st["w"].items()) + list(st["probe"].items()):
                (w if k in w else probe)[k].copy_(v)
        start = st["step"]
        print(f"resumed at step {start}")
    elif os.path.exists(log_path):
        os.remove(log_path)
    params = [v for k, v in w.items() if k.startswith(arch.tower)] + list(probe.values())
    for k, v in w.items():
        v.requires_grad_(k.startswith(arch.tower))
    print(f"vision pretraining: {sum(p.numel() for p in params)} parameters (probe included), "
          f"{a.steps} steps of {a.images} images", flush=True)
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    train = arch.regions.ImageBatches(a.seed, "train", a.images)
    val_batch = arch.regions.ImageBatches(a.seed, "val", a.val_images).get(0)
    log = open(log_path, "a")
    t0 = last_save = time.time()
    for step in range(start, a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, 0, a.steps, a.lr, a.warmup)
            if start:  # resumed: fresh moments
                g["lr"] *= min(1.0, (step - start + 1) / a.warmup)
        tb = time.time()
        batch = train.get(step)
        with torch.autocast("cpu", torch.bfloat16, enabled=a.bf16):
            lo, _ = regions.probe_loss(arch.regions.features(m, batch), probe, batch, arch.regions.BALANCED)
        opt.zero_grad(set_to_none=True)
        lo.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        rec = {"step": step + 1, "loss": float(lo), "lr": opt.param_groups[0]["lr"], "seconds": time.time() - tb}
        if (step + 1) % a.val_every == 0 or step + 1 == a.steps:
            with torch.no_grad():
                vl, stats = regions.probe_loss(arch.regions.features(m, val_batch), probe, val_batch,
                                               arch.regions.BALANCED)
            rec |= {"val_loss": float(vl)} | {"val_" + k: v for k, v in stats.items()}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        progress(step + 1, start, a.steps, "vision", float(lo), a.images / (time.time() - tb), t0,
                 final=step + 1 == a.steps)
        if "val_loss" in rec:
            print(f"\n  validation: probe loss {rec['val_loss']:.4f}  centre class "
                  f"{rec['val_centre_recall']:.3f}  rank {rec['val_rank_recall']:.3f}", flush=True)
        if time.time() - last_save > a.save_every or step + 1 == a.steps:
            save(a.out, arch, w, probe, step + 1)
            plot(log_path, os.path.join(a.out, "probe.png"))
            last_save = time.time()
    print(f"done: {a.out}/vision.pt")


if __name__ == "__main__":
    main()
