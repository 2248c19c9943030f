#!/usr/bin/python3
"""Measures the claims of issue 8 on a trained shapes model with the C++ engine's `dimple eval`,
and writes results.json, a Markdown report and PNG plots.

  /usr/bin/python3 tools/train/measure.py --cli build/dimple --model models/dimple-shapes \
      --baseline RUNS/diffusion/model --eval-dir EVAL --out OUT [--logs MAIN_LOG BASELINE_LOG] [--quick N]

EVAL is a folder written by make_eval_set.py. Runs: default decoding; thresholds 0.8/0.9/0.95 and
one token per step (threshold 0, as many steps as answer positions); prefilling off; the JSON
question with and without a structure-prior frame; f32 and int8 compute (default decoding is bf16
where the CPU has AVX512_BF16); the pure-diffusion baseline at default decoding;
temperature 0 against the PyTorch reference (tools/train/eval_ref.py) on a few items.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import world  # noqa: E402

# The structure prior: the first object's frame; the model fills the two words and decides the rest.
JSON_FRAME = '[{"shape": "<mask>", "color": "<mask>'


def subset(eval_dir, name, keep):
    """eval_dir/name.jsonl holding the lines of eval.jsonl that keep(item) accepts."""
    path = os.path.join(eval_dir, name + ".jsonl")
    with open(os.path.join(eval_dir, "eval.jsonl")) as f, open(path, "w") as g:
        for i, line in enumerate(f):
            if keep(i, json.loads(line)):
                g.write(line)
    return path


def run_eval(a, name, model, data, extra):
    pred = os.path.join(a.out, f"pred-{name}.jsonl")
    cmd = [a.cli, "eval", "--model", model, "--data", data, "--predictions", pred, "--json",
           "--threads", "1"] + extra
    print(f"[{name}] {' '.join(cmd)}", flush=True)
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{name}: {res.stderr[-2000:]}")
    top = json.loads(res.stdout.strip().splitlines()[-1])  # dimple eval --json: totals + "kinds"
    summary = {"all": {k: v for k, v in top.items() if k != "kinds"}, "kinds": top.get("kinds", {}),
               "wall_seconds": time.time() - t0}
    with open(data) as f:
        items = [json.loads(line) for line in f if line.strip()]
    with open(pred) as f:
        preds = [json.loads(line) for line in f if line.strip()]
    summary.update(answer_stats(a.tok, items, preds))
    summary["command"] = " ".join(cmd)
    print(f"[{name}] accuracy {summary['all']['accuracy']:.4f}, forward passes per answer token "
          f"{summary['all']['steps_per_token']:.3f}", flush=True)
    return summary


def answer_stats(tok, items, preds):
    """Answer-length error in tokens (mean absolute, mean signed) and the valid-JSON rate of JSON items."""
    abs_err = signed = 0
    valid = n_json = 0
    for it, p in zip(items, preds):
        d = len(tok.encode(p.get("answer", ""))) - len(tok.encode(it["answer"]))
        abs_err += abs(d)
        signed += d
        if it.get("kind") == "json":
            n_json += 1
            try:
                v = json.loads(p.get("answer", ""))
                valid += isinstance(v, list) and all(isinstance(o, dict) and set(o) == {"shape", "color"}
                                                    for o in v)
            except ValueError:
                pass
    n = max(1, len(items))
    out = {"length_error_abs": abs_err / n, "length_error_signed": signed / n}
    if n_json:
        out["json_valid_rate"] = valid / n_json
    return out


def upto_eos(ids, eos):
    """The answer ids up to and including the first eos (the engine's --json keeps whatever the
    region holds after it; the reference turns it into pad)."""
    return ids[:ids.index(eos) + 1] if eos in ids else ids


def parity(a, n):
    """`dimple run --json --compute f32` against the PyTorch reference at temperature 0 with a
    deterministic algorithm (maskgit_plus; `origin` draws random positions from different
    generators) on the first n items: answers up to eos and step counts must be identical."""
    sub = subset(a.eval_dir, "parity", lambda i, _: i < n)
    opts = ["--temperature", "0", "--alg", "maskgit_plus"]
    ref_pred = os.path.join(a.out, "pred-parity-reference.jsonl")
    subprocess.run([sys.executable, os.path.join(HERE, "eval_ref.py"), "--model", a.model, "--data", sub,
                    "--predictions", ref_pred] + opts, check=True, stdout=subprocess.DEVNULL)
    with open(ref_pred) as f:
        ref = [json.loads(line) for line in f]
    with open(sub) as f:
        items = [json.loads(line) for line in f]
    with open(os.path.join(a.model, "config.json")) as f:
        eos = json.load(f)["eos_token_id"]
    same = []
    for it, r in zip(items, ref):
        cmd = [a.cli, "run", "--model", a.model, "--image", os.path.join(a.eval_dir, it["image"]),
               "--prompt", it["question"], "--compute", "f32", "--json"] + opts
        e = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        same.append(upto_eos(e["answer_ids"], eos) == upto_eos(r["region"], eos) and e["steps"] == r["steps"])
    return {"items": len(ref), "identical_answer_and_steps": sum(same),
            "reference_accuracy": sum(r["answer"] == it["answer"] for r, it in zip(ref, items)) / len(ref),
            "options": " ".join(opts)}


def stability(log_path, objective="diffusion"):
    """Diffusion-loss statistics over the second half of a run: mean, the standard deviation of
    step-to-step changes, and the largest ratio of a loss to the mean of the 25 before it."""
    with open(log_path) as f:
        recs = [json.loads(line) for line in f]
    half = recs[len(recs) // 2:]
    loss = [r["loss"] for r in half if r["objective"] == objective]
    diffs = [b - x for x, b in zip(loss, loss[1:])]
    mean = sum(loss) / len(loss)
    sd = (sum(d * d for d in diffs) / max(1, len(diffs))) ** 0.5
    spikes = [loss[i] / (sum(loss[i - 25:i]) / 25) for i in range(25, len(loss))]
    val = [r["val_diffusion"] for r in recs if "val_diffusion" in r]
    return {"steps": len(recs), "second_half_mean": mean, "step_change_sd": sd,
            "max_spike_ratio": max(spikes) if spikes else None, "final_val_diffusion": val[-1] if val else None,
            "final_val_autoregressive": next((r["val_autoregressive"] for r in reversed(recs)
                                              if "val_autoregressive" in r), None),
            "grad_norm_max_second_half": max(r["grad_norm"] for r in half)}


def question_only_accuracy(eval_file, n_scenes=20000, seed=99):
    """Accuracy per kind of always giving each question's most frequent answer (counted over
    n_scenes random scenes): about what a model that ignores the image can reach."""
    import numpy as np
    from collections import Counter, defaultdict
    counts = defaultdict(Counter)
    rng = np.random.default_rng(seed)
    for _ in range(n_scenes):  # questions drawn as training and make_eval_set draw them
        scene = world.sample_scene(rng)
        for kind in world.KINDS:
            qa = world.sample_question(rng, scene, kind)
            if qa is not None:
                counts[qa[1]][qa[2]] += 1
    right, total = Counter(), Counter()
    with open(eval_file) as f:
        for line in f:
            it = json.loads(line)
            guess = counts[it["question"]].most_common(1)[0][0] if counts[it["question"]] else ""
            total[it["kind"]] += 1
            right[it["kind"]] += guess == it["answer"]
    out = {k: right[k] / total[k] for k in total}
    out["all"] = sum(right.values()) / sum(total.values())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/dimple")
    ap.add_argument("--model", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--eval-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--logs", nargs=2, metavar=("MAIN", "BASELINE"))
    ap.add_argument("--slow-items", type=int, default=90, help="items for the one-token-per-step and "
                    "no-prefilling runs (the first N, all kinds in turn)")
    ap.add_argument("--parity-items", type=int, default=9)
    ap.add_argument("--only", default=None, help="comma separated run names (default: all)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.tok = bpe.Tokenizer(a.model)
    full = os.path.join(a.eval_dir, "eval.jsonl")
    slow = subset(a.eval_dir, "first", lambda i, _: i < a.slow_items)
    json_only = subset(a.eval_dir, "json", lambda i, it: it["kind"] == "json")
    runs = {
        "default": (a.model, full, []),
        "threshold-0.8": (a.model, full, ["--threshold", "0.8"]),
        "threshold-0.9": (a.model, full, ["--threshold", "0.9"]),
        "one-per-step": (a.model, slow, ["--threshold", "0"]),
        "default-first": (a.model, slow, []),
        "no-prefill-first": (a.model, slow, ["--no-cache"]),
        "json-no-prior": (a.model, json_only, []),
        "json-prior": (a.model, json_only, ["--template", JSON_FRAME]),
        "compute-f32": (a.model, full, ["--compute", "f32"]),
        "compute-int8": (a.model, full, ["--compute", "int8"]),
    }
    if a.baseline:
        runs["baseline-default"] = (a.baseline, full, [])
    only = set(a.only.split(",")) if a.only else None
    path = os.path.join(a.out, "results.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    for name, (model, data, extra) in runs.items():
        if only is None or name in only:
            results[name] = run_eval(a, name, model, data, extra)
            with open(path, "w") as f:
                json.dump(results, f, indent=1)
    if only is None or "parity" in only:
        results["parity"] = parity(a, a.parity_items)
    if only is None or "question-only" in only:
        results["question-only"] = question_only_accuracy(full)
    if a.logs:
        results["stability"] = {"ar-then-diffusion": stability(a.logs[0]), "diffusion": stability(a.logs[1])}
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
