#!/usr/bin/python3
"""Measures the faster-decoding options (src/decode/acceleration.h) with `dimple eval` on a held-out
set: accuracy per kind, forward passes and time per answer, on short answers (one to two words) and
on long ones (Describe, JSON), each against exact decoding. Writes OUT/results.json, OUT/results.md
and OUT/faster.png (accuracy against time per answer).

  /usr/bin/python3 tools/faster_decoding.py --cli build/dimple --model models/dimple-shapes \
      --data EVAL/eval.jsonl --out OUT [--threads 1] [--only NAME ...] [--replot]

EVAL is a folder written by tools/train/make_eval_set.py. Times are the engine's own (`seconds` of
`dimple eval --json`: vision, prefill and steps of every answer), so run it on a quiet machine.
"""
import argparse
import json
import os
import subprocess
import sys
import time

LONG = ("describe", "json")

# (name, family, extra flags); "exact" is the reference point.
SETTINGS = [
    ("exact", "exact", []),
    ("early-stop loop", "early stop", ["--early-stop", "loop"]),
    ("early-stop rows", "early stop", ["--early-stop", "rows"]),
    ("one-per-step", "exact", ["--threshold", "0"]),
    ("one-per-step + early-stop loop", "early stop", ["--threshold", "0", "--early-stop", "loop"]),
    ("one-per-step + early-stop rows", "early stop", ["--threshold", "0", "--early-stop", "rows"]),
    ("blocks 8", "blocks / dual cache", ["--block-length", "8", "--early-stop", "loop"]),
    ("blocks 8 + dual cache", "blocks / dual cache", ["--block-length", "8", "--dual-cache", "--early-stop", "loop"]),
    ("blocks 8 + dual cache, refresh 2", "blocks / dual cache",
     ["--block-length", "8", "--dual-cache", "--cache-refresh", "2", "--early-stop", "loop"]),
    ("blocks 16 + dual cache", "blocks / dual cache", ["--block-length", "16", "--dual-cache", "--early-stop", "loop"]),
    ("blocks 4 + dual cache", "blocks / dual cache", ["--block-length", "4", "--dual-cache", "--early-stop", "loop"]),
    ("skip last layer from step 1", "layer skipping", ["--skip-layers", "LAST"]),
    ("skip last layer from step 2", "layer skipping", ["--skip-layers", "LAST", "--skip-from", "2"]),
    ("skip middle layer from step 1", "layer skipping", ["--skip-layers", "MIDDLE"]),
    ("prune after 0, keep 50%", "pruning", ["--prune-layer", "0", "--prune-keep", "0.5"]),
    ("prune after 0, keep 25%", "pruning", ["--prune-layer", "0", "--prune-keep", "0.25"]),
    ("prune after 1, keep 50%", "pruning", ["--prune-layer", "1", "--prune-keep", "0.5"]),
    ("prune after 1, keep 25%", "pruning", ["--prune-layer", "1", "--prune-keep", "0.25"]),
    *[(f"blocks 16 + dual cache + prune after 1, keep {int(k * 100)}%", "blocks / dual cache",
       ["--block-length", "16", "--dual-cache", "--early-stop", "loop", "--prune-layer", "1", "--prune-keep", str(k)])
      for k in (0.5, 0.6, 0.75)],
    ("prune after 0, keep 25%, late (step 2)", "pruning",
     ["--prune-layer", "0", "--prune-keep", "0.25", "--prune-when", "late", "--prune-step", "2"]),
    ("prune after 0, keep 25%, progressive (to step 4)", "pruning",
     ["--prune-layer", "0", "--prune-keep", "0.25", "--prune-when", "progressive", "--prune-step", "4"]),
]


def layers_of(model):
    with open(os.path.join(model, "config.json")) as f:
        return json.load(f)["num_hidden_layers"]


def run(a, name, extra):
    layers = layers_of(a.model)
    extra = [str(layers - 1) if x == "LAST" else str(layers // 2) if x == "MIDDLE" else x for x in extra]
    cmd = [a.cli, "eval", "--model", a.model, "--data", a.data, "--json", "--threads", str(a.threads)] + extra
    print(f"[{name}] {' '.join(cmd[1:])}", flush=True)
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{name}: {res.stderr[-2000:]}")
    top = json.loads(res.stdout.strip().splitlines()[-1])
    kinds = top["kinds"]

    def group(names):
        ks = [kinds[k] for k in names if k in kinds]
        items = sum(k["items"] for k in ks)
        return {"items": items, "accuracy": sum(k["correct"] for k in ks) / items,
                "passes": sum(k["mean_steps"] * k["items"] for k in ks) / items,
                "ms_per_answer": 1000 * sum(k["seconds"] for k in ks) / items}

    out = {"command": " ".join(cmd[1:]), "flags": extra, "all": group(list(kinds)),
           "short": group([k for k in kinds if k not in LONG]), "long": group([k for k in kinds if k in LONG]),
           "kinds": {k: v["accuracy"] for k, v in kinds.items()}, "wall_seconds": time.time() - t0}
    print(f"[{name}] accuracy {out['all']['accuracy']:.3f}  short {out['short']['accuracy']:.3f} "
          f"({out['short']['ms_per_answer']:.2f} ms)  long {out['long']['accuracy']:.3f} "
          f"({out['long']['ms_per_answer']:.2f} ms)", flush=True)
    return out


def table(results):
    kinds = list(results["exact"]["kinds"])
    head = ("| # | setting | all | short | long | passes short / long | ms per answer short / long | "
            + " | ".join(kinds) + " |")
    rows = [head, "|" + "---|" * (7 + len(kinds))]
    for i, (name, r) in enumerate(results.items(), 1):
        rows.append(f"| {i} | {name} | {100 * r['all']['accuracy']:.1f}% | {100 * r['short']['accuracy']:.1f}% | "
                    f"{100 * r['long']['accuracy']:.1f}% | {r['short']['passes']:.2f} / {r['long']['passes']:.2f} | "
                    f"{r['short']['ms_per_answer']:.2f} / {r['long']['ms_per_answer']:.2f} | "
                    + " | ".join(f"{100 * r['kinds'][k]:.0f}" for k in kinds) + " |")
    return "\n".join(rows) + "\n"


def plot(results, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    families = {name: fam for name, fam, _ in SETTINGS}
    colours = {"exact": "black", "early stop": "tab:green", "blocks / dual cache": "tab:blue",
               "layer skipping": "tab:orange", "pruning": "tab:red"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, part in zip(axes, ("short", "long")):
        for i, (name, r) in enumerate(results.items(), 1):
            fam = families.get(name, "exact")
            x, y = r[part]["ms_per_answer"], 100 * r[part]["accuracy"]
            ax.scatter(x, y, color=colours[fam], marker="*" if name == "exact" else "o", s=120 if name == "exact" else 40,
                       label=fam)
            ax.annotate(str(i), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("time per answer (ms, log scale)")
        ax.set_ylabel("exact-match accuracy (%)")
        ax.set_title(f"{part} answers" + (" (Describe, JSON)" if part == "long" else " (one or two words)"))
        handles, labels = ax.get_legend_handles_labels()
        seen = dict(zip(labels, handles))
        ax.legend(seen.values(), seen.keys(), fontsize=8, loc="lower left")
    fig.suptitle("faster decoding options against exact decoding (dimple eval, held-out set; "
                 "numbers: rows of results.md)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def replot(out):
    """Rewrites the table and the plot from OUT/results.json."""
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table(results))
    plot(results, os.path.join(out, "faster.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/dimple")
    ap.add_argument("--model", default="models/dimple-shapes")
    ap.add_argument("--data", help="the held-out set (needed unless --replot)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", nargs="*", help="setting names to run (default: all)")
    ap.add_argument("--replot", action="store_true", help="only redraw OUT's table and plot from its results.json")
    a = ap.parse_args()
    if a.replot:
        replot(a.out)
        return 0
    if not a.data:
        ap.error("--data is needed to run the settings")
    os.makedirs(a.out, exist_ok=True)
    results = {}
    for name, _, extra in SETTINGS:
        if not a.only or name in a.only or name == "exact":
            results[name] = run(a, name, extra)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    replot(a.out)
    print(f"wrote {a.out}/results.json, results.md, faster.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
