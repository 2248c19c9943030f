#!/usr/bin/python3
"""The visual-token redundancy study (arXiv 2511.15098's three findings) on a shapes model, with the
engine's own options through `dimple eval`, answers split into short kinds and long ones (Describe,
JSON):
  attention  per layer and step, the share of attention the masks' rows give the image tokens
             (`dimple eval --image-attention`, on the first --attention-items items);
  pruning    FastV at each layer but the last, accuracy against the share of image tokens kept;
  timing     pruning from the first pass, from a later step (late) or growing until a step
             (progressive): does accuracy lost early come back when the image is whole early on?
  skipping   each layer skipped by the answer rows from several steps on.
Decoding is one token per step (so that steps mean the same thing on both models): Dimple
`--threshold 0 --early-stop loop`, LLaDA-V 64 tokens in 64 steps with prefilling (pruning and
skipping need it). Writes OUT/results.json, OUT/results.md and OUT/{attention,pruning,timing,skipping}.png.

  /usr/bin/python3 tools/redundancy_study.py --cli build/dimple --model models/dimple-shapes \
      --data EVAL/eval.jsonl --out OUT [--threads 1] [--only PART ...] [--replot]
"""
import argparse
import json
import os
import subprocess
import sys
import time

LONG = ("describe", "json")
KEEPS = (0.75, 0.5, 0.25, 0.1, 0.05)
STARTS = (2, 4, 8, 16)


def family(model):
    with open(os.path.join(model, "config.json")) as f:
        cfg = json.load(f)
    llada = cfg.get("model_type") == "llava_llada"
    base = ["--max-new-tokens", "64", "--steps", "64", "--cache"] if llada else ["--threshold", "0", "--early-stop", "loop"]
    return ("LLaDA-V" if llada else "Dimple"), cfg["num_hidden_layers"], base


def settings(layers):
    """[(part, name, flags, parameters)] of the study."""
    out = [("exact", "exact", [], {})]
    for layer in range(layers - 1):
        for keep in KEEPS:
            out.append(("pruning", f"prune after {layer}, keep {keep:g}",
                        ["--prune-layer", str(layer), "--prune-keep", str(keep)], {"layer": layer, "keep": keep}))
    for keep in (0.25, 0.1):
        for when, steps in (("late", STARTS), ("progressive", STARTS)):
            for s in steps:
                out.append(("timing", f"prune after 0, keep {keep:g}, {when} (step {s})",
                            ["--prune-layer", "0", "--prune-keep", str(keep), "--prune-when", when, "--prune-step", str(s)],
                            {"keep": keep, "when": when, "step": s}))
    for layer in range(layers):
        for s in (1,) + STARTS:
            out.append(("skipping", f"skip layer {layer} from step {s}",
                        ["--skip-layers", str(layer), "--skip-from", str(s)], {"layer": layer, "from": s}))
    return out


def split_accuracy(pred_path):
    short, long_ = [0, 0], [0, 0]
    for line in open(pred_path):
        p = json.loads(line)
        if "error" in p:
            continue
        t = long_ if p["kind"] in LONG else short
        t[0] += int(p["correct"])
        t[1] += 1
    return {"short": short[0] / max(1, short[1]), "long": long_[0] / max(1, long_[1]), "n_short": short[1],
            "n_long": long_[1]}


def run_eval(a, name, flags, data, extra=()):
    pred = os.path.join(a.out, "pred-" + name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "") + ".jsonl")
    cmd = [a.cli, "eval", "--model", a.model, "--data", data, "--predictions", pred, "--json", "--threads",
           str(a.threads)] + a.base + flags + list(extra)
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{name}: {' '.join(cmd)}\n{res.stderr[-2000:]}")
    top = json.loads(res.stdout.strip().splitlines()[-1])
    out = {"accuracy": top["accuracy"], "mean_steps": top["mean_steps"], "seconds": top["seconds"],
           "command": " ".join(cmd), "wall": time.time() - t0} | split_accuracy(pred)
    print(f"{name:48s} all {out['accuracy']:.3f}  short {out['short']:.3f}  long {out['long']:.3f}  "
          f"steps {out['mean_steps']:.1f}", flush=True)
    return out, pred


def attention(a):
    """Mean share per (group, step, layer) over the first --attention-items items."""
    sub = os.path.join(a.out, "attention-items.jsonl")
    here = os.path.dirname(os.path.abspath(a.data))
    with open(a.data) as f, open(sub, "w") as g:
        for i, line in enumerate(f):
            if i < a.attention_items:
                item = json.loads(line)
                item["image"] = os.path.join(here, item["image"])
                g.write(json.dumps(item) + "\n")
    _, pred = run_eval(a, "attention", [], sub, ["--image-attention"])
    sums, even = {}, {}
    for line in open(pred):
        p = json.loads(line)
        if "error" in p:
            continue
        group = "long" if p["kind"] in LONG else "short"
        # An even spread over the keys (prompt and the 64 answer rows) gives the image this share.
        even.setdefault(group, []).append(p["image_tokens"] / (p["prompt_tokens"] + 64))
        for step, layers in enumerate(p["image_attention"]):
            for layer, v in enumerate(layers):
                if v is not None:
                    s = sums.setdefault(group, {}).setdefault(f"{step},{layer}", [0.0, 0])
                    s[0] += v
                    s[1] += 1
    return {g: {k: v[0] / v[1] for k, v in d.items()} | {"counts": {k: v[1] for k, v in d.items()},
                                                          "even": sum(even[g]) / len(even[g])}
            for g, d in sums.items()}


def plot(a, res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    title = f"{a.family} ({os.path.basename(os.path.normpath(a.model))})"
    exact = res["settings"]["exact"]
    if "attention" in res:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for ax, group in zip(axes, ("short", "long")):
            d = res["attention"].get(group, {})
            plotted = False
            for layer in range(a.layers):
                pts = sorted((int(k.split(",")[0]), v) for k, v in d.items()
                             if "," in k and int(k.split(",")[1]) == layer and d["counts"][k] >= 5)
                ax.plot([p[0] + 1 for p in pts], [p[1] for p in pts], label=f"layer {layer}")
                plotted = plotted or bool(pts)
            if "even" in d:
                ax.axhline(d["even"], color="k", ls="--", lw=0.8, label="even spread over the keys")
            ax.set_title(f"{group} answers")
            ax.set_xlabel("decoding step")
            if plotted:
                ax.set_xscale("log")
        axes[0].set_ylabel("attention share on image tokens")
        axes[0].legend()
        fig.suptitle(title + ": attention the masks' rows give the image")
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "attention.png"), dpi=100)
        plt.close(fig)
    parts = {"pruning": ("keep", "share of image tokens kept"), "timing": ("step", "pruning starts at / reaches step (1: the first pass)"),
             "skipping": ("from", "skipping starts at step")}
    for part, (key, xlabel) in parts.items():
        rows = [(n, r) for n, r in res["settings"].items() if r.get("part") == part]
        if not rows:
            continue
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for ax, group in zip(axes, ("short", "long")):
            curves = {}
            for n, r in rows:
                p = r["params"]
                label = {"pruning": f"after layer {p.get('layer')}", "timing": f"keep {p.get('keep')}, {p.get('when')}",
                         "skipping": f"layer {p.get('layer')}"}[part]
                curves.setdefault(label, []).append((p[key], r[group]))
                first_pass = res["settings"].get(f"prune after 0, keep {p['keep']:g}") if part == "timing" else None
                if first_pass and (1, first_pass[group]) not in curves[label]:
                    curves[label].append((1, first_pass[group]))  # pruned from the first pass (FastV)
            for label, pts in sorted(curves.items()):
                pts.sort()
                ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", label=label)
            ax.axhline(exact[group], color="k", ls="--", lw=0.8, label="exact")
            ax.set_title(f"{group} answers")
            ax.set_xlabel(xlabel)
            if part != "pruning":
                ax.set_xscale("log", base=2)
        axes[0].set_ylabel("accuracy")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"{title}: {part}")
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, f"{part}.png"), dpi=100)
        plt.close(fig)


def table(res):
    lines = ["| setting | all | short | long | steps |", "|---|---|---|---|---|"]
    for name, r in res["settings"].items():
        lines.append(f"| {name} | {r['accuracy']:.3f} | {r['short']:.3f} | {r['long']:.3f} | {r['mean_steps']:.1f} |")
    if "attention" in res:
        lines += ["", "attention share on image tokens, mean over steps (short / long):", ""]
        for group in ("short", "long"):
            d = res["attention"].get(group, {})
            per_layer = {}
            for k, v in d.items():
                if "," in k:
                    per_layer.setdefault(int(k.split(",")[1]), []).append(v)
            lines.append(f"- {group}: " + ", ".join(f"layer {l} {sum(v) / len(v):.3f}" for l, v in sorted(per_layer.items()))
                         + f" (an even spread over the keys: {d.get('even', float('nan')):.3f})")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attention-items", type=int, default=150)
    ap.add_argument("--only", nargs="*", default=None, help="parts: exact attention pruning timing skipping")
    ap.add_argument("--replot", action="store_true")
    a = ap.parse_args()
    a.family, a.layers, a.base = family(a.model)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "results.json")
    res = json.load(open(path)) if os.path.exists(path) else {"settings": {}}
    res |= {"model": a.model, "family": a.family, "base_flags": a.base, "data": a.data}
    if not a.replot:
        want = set(a.only or ("exact", "attention", "pruning", "timing", "skipping"))
        for part, name, flags, params in settings(a.layers):
            if part in want and (part != "exact" or name not in res["settings"] or "exact" in (a.only or ())):
                r, _ = run_eval(a, name, flags, a.data)
                res["settings"][name] = r | {"part": part, "params": params}
                json.dump(res, open(path, "w"), indent=1)
        if "attention" in want:
            res["attention"] = attention(a)
            json.dump(res, open(path, "w"), indent=1)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(table(res))
    plot(a, res)
    print(f"wrote {a.out}/results.json, results.md and plots", file=sys.stderr)


if __name__ == "__main__":
    main()
