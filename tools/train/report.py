#!/usr/bin/python3
"""Markdown tables and PNG plots from measure.py's results.json.

  /usr/bin/python3 tools/train/report.py RESULTS.json OUT_DIR

Writes OUT_DIR/results.md (tables for the model card and BENCHMARKS.md) and
OUT_DIR/threshold.png (accuracy and forward passes per answer token against the threshold).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402

THRESHOLD_RUNS = (("threshold-0.8", 0.8), ("threshold-0.9", 0.9), ("default", 0.95))


def pct(x):
    return f"{100 * x:.1f}%"


def kinds_table(res, names):
    present = [n for n in names if n in res]
    prior = res.get("question-only")
    head = "| kind | " + " | ".join(present) + (" | question only (best guess without the image) |" if prior else " |")
    head += "\n|---|" + "---|" * (len(present) + bool(prior)) + "\n"
    rows = []
    for k in world.KINDS + ("all",):
        cells = []
        for n in present:
            t = res[n]["all"] if k == "all" else res[n].get("kinds", {}).get(k)
            cells.append(f"{pct(t['accuracy'])} ({t['correct']}/{t['items']})" if t else "")
        if prior:
            cells.append(pct(prior[k]) if k in prior else "")
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


def decoding_table(res, names, kinds=("describe", "json")):
    out = "| run | accuracy | forward passes / answer token | " + \
          " | ".join(f"{k} accuracy | {k} passes/token" for k in kinds) + " | mean passes | s / answer |\n"
    out += "|---|---|---|" + "---|---|" * len(kinds) + "---|---|\n"
    for n in names:
        if n not in res:
            continue
        r = res[n]
        cells = [pct(r["all"]["accuracy"]), f"{r['all']['steps_per_token']:.3f}"]
        for k in kinds:
            t = r.get("kinds", {}).get(k)
            cells += [pct(t["accuracy"]), f"{t['steps_per_token']:.3f}"] if t else ["", ""]
        per = r["all"]["seconds"] / max(1, r["all"]["items"])
        cells += [f"{r['all']['mean_steps']:.2f}", f"{per:.3f}"]
        out += f"| {n} | " + " | ".join(cells) + " |\n"
    return out


def plot_thresholds(res, path):
    pts = [(t, res[n]) for n, t in THRESHOLD_RUNS if n in res]
    if not pts:
        return
    fig, ax = plt.subplots(figsize=(6, 4), dpi=80)
    ax2 = ax.twinx()
    for i, k in enumerate(("all", "describe", "json")):
        xs, acc, spt = [], [], []
        for t, r in pts:
            s = r["all"] if k == "all" else r["kinds"].get(k)
            if s:
                xs.append(t)
                acc.append(100 * s["accuracy"])
                spt.append(s["steps_per_token"])
        ax.plot(xs, acc, f"C{i}-o", label=f"accuracy: {k}")
        ax2.plot(xs, spt, f"C{i}--s", label=f"passes/token: {k}")
    if "one-per-step" in res:
        ax2.axhline(res["one-per-step"]["all"]["steps_per_token"], color="grey", ls=":",
                    label="passes/token: one token per step")
    ax.set_xlabel("confidence threshold")
    ax.set_ylabel("exact-match accuracy (%)")
    ax2.set_ylabel("forward passes per answer token")
    ax.legend(loc="lower left", fontsize=7)
    ax2.legend(loc="upper left", fontsize=7)
    ax.set_title("confident decoding")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        res = json.load(f)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    md = ["## Accuracy per kind (default decoding)\n", kinds_table(res, ["default", "baseline-default"]),
          "\n## Confident decoding, prefilling\n",
          decoding_table(res, ["threshold-0.8", "threshold-0.9", "default", "default-first", "one-per-step",
                               "no-prefill-first"]),
          "\n## JSON structure prior\n", "| run | accuracy | valid JSON |\n|---|---|---|\n"]
    for n in ("json-no-prior", "json-prior"):
        if n in res:
            md.append(f"| {n} | {pct(res[n]['all']['accuracy'])} | {pct(res[n]['json_valid_rate'])} |\n")
    if "compute-f32" in res or "compute-int8" in res:
        md += ["\n## Compute modes (default decoding; `default` is what `auto` picks)\n",
               kinds_table(res, ["default", "compute-f32", "compute-int8"]),
               "\n", decoding_table(res, ["default", "compute-f32", "compute-int8"])]
    md.append("\n## AR-then-diffusion vs pure diffusion\n")
    md.append("| model | accuracy | answer-length error (tokens, mean abs / signed) |\n|---|---|---|\n")
    for n in ("default", "baseline-default"):
        if n in res:
            r = res[n]
            md.append(f"| {n} | {pct(r['all']['accuracy'])} | {r['length_error_abs']:.3f} / "
                      f"{r['length_error_signed']:+.3f} |\n")
    if "stability" in res:
        md.append("\n| run | diffusion loss, 2nd half mean | sd of step-to-step change | max spike ratio | "
                  "final val diffusion | final val AR | max grad norm, 2nd half |\n|---|---|---|---|---|---|---|\n")
        for n, s in res["stability"].items():
            md.append(f"| {n} | {s['second_half_mean']:.4f} | {s['step_change_sd']:.4f} | "
                      f"{s['max_spike_ratio']:.2f} | {s['final_val_diffusion']:.4f} | "
                      f"{s['final_val_autoregressive']:.4f} | {s['grad_norm_max_second_half']:.2f} |\n")
    if "parity" in res:
        p = res["parity"]
        md.append(f"\nEngine (`--compute f32`) vs PyTorch reference at temperature 0: "
                  f"{p['identical_answer_and_steps']}/{p['items']} items with identical answer and step count.\n")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("".join(md))
    plot_thresholds(res, os.path.join(out, "threshold.png"))
    print("".join(md))


if __name__ == "__main__":
    main()
