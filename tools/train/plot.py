#!/usr/bin/python3
"""Loss curves of one or more training runs (their log.jsonl) as one PNG.

  /usr/bin/python3 tools/train/plot.py OUT.png RUN_DIR/log.jsonl [RUN_DIR/log.jsonl ...]

Left: training loss per step (thin) and its moving average (thick), per run and phase objective.
Right: validation losses on fixed batches (diffusion loss with fixed masks, autoregressive loss,
the diffusion loss with blank images: as high as the real one when the model ignores the image).
Third, for runs whose log has it: the reading probe's colour and shape accuracy (llada_v_probe.py).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def moving_average(v, k=25):
    out, acc = [], 0.0
    for i, x in enumerate(v):
        acc += x
        if i >= k:
            acc -= v[i - k]
        out.append(acc / min(i + 1, k))
    return out


def plot_runs(paths, out_png, labels=None):
    logs = [read(p) for p in paths]
    probed = any("val_probe_acc" in r for recs in logs for r in recs)
    fig, axes = plt.subplots(1, 3 if probed else 2, figsize=(16 if probed else 11, 4), dpi=80)
    ax, av = axes[:2]
    for ri, (path, recs) in enumerate(zip(paths, logs)):
        label = (labels or [])[ri] if labels else os.path.basename(os.path.dirname(path)) or path
        color = f"C{ri}"
        for obj, style in (("autoregressive", ":"), ("diffusion", "-")):
            pts = [(r["step"], r["loss"]) for r in recs if r["objective"] == obj]
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(xs, ys, color=color, alpha=0.15, lw=0.5)
            ax.plot(xs, moving_average(list(ys)), color=color, ls=style, lw=1.5, label=f"{label}: {obj}")
        for key, style in (("val_diffusion", "-"), ("val_autoregressive", ":"), ("val_blank_diffusion", "--")):
            pts = [(r["step"], r[key]) for r in recs if key in r]
            if pts:
                xs, ys = zip(*pts)
                av.plot(xs, ys, color=color, ls=style, marker=".", label=f"{label}: {key[4:]}")
        for key, style, what in (("val_probe_acc", "-", "colour"), ("val_probe_shape_acc", "--", "shape")):
            pts = [(r["step"], 100 * r[key]) for r in recs if key in r] if probed else []
            if pts:
                axes[2].plot(*zip(*pts), color=color, ls=style, marker=".", label=f"{label}: {what}")
    if probed:
        ap = axes[2]
        ap.axhline(100 / 6, color="grey", ls="--", lw=1, label="chance: colour 1 in 6")
        ap.axhline(100 / 3, color="grey", ls=":", lw=1, label="shape 1 in 3")
        ap.set_ylim(0, 100)
        ap.set_xlabel("step")
        ap.set_title("reading probe: one-object scenes (%)")
        ap.grid(alpha=0.3)
        ap.legend(fontsize=7)
    for a, title in ((ax, "training loss"), (av, "validation loss")):
        a.set_yscale("log")
        a.set_xlabel("step")
        a.set_title(title)
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    plot_runs(sys.argv[2:], sys.argv[1])
