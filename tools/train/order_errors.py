#!/usr/bin/python3
"""Accuracy of the answers that list every object in order (Describe, JSON) against how close the
two nearest neighbours are, in columns of merged vision tokens (28 pixels of the resized image):
the language model sees an image token's column through M-RoPE, but two objects in one column
differ only in what the vision tower encodes.

  /usr/bin/python3 tools/train/order_errors.py MODEL_DIR EVAL_DIR PREDICTIONS.jsonl [--seed 1]

EVAL_DIR is make_eval_set.py's output (same --n and --seed; the scenes are drawn again from the
seed), PREDICTIONS `dimple eval --predictions` on EVAL_DIR/eval.jsonl with MODEL_DIR (whose
preprocessor config gives the resized size).
"""
import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import make_eval_set  # noqa: E402
import world  # noqa: E402
from dimple_ref import preprocess as P  # noqa: E402

BUCKETS = ((0, 0.5), (0.5, 1), (1, 2), (2, float("inf")))  # nearest-neighbour gap, in token columns
LISTING = ("describe", "json")


def nearest_gap(scene, max_pixels, min_pixels):
    """Smallest distance in x between neighbouring objects' centres, in merged-token columns of the
    resized image (inf for one object)."""
    _, width = P.smart_resize(scene.height, scene.width, 28, min_pixels, max_pixels)
    cols = [o.cx / scene.width * width / 28 for o in scene.objects]
    return min((b - a for a, b in zip(cols, cols[1:])), default=float("inf"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("eval_dir")
    ap.add_argument("predictions")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    cfg = P.load_preprocessor_config(os.path.join(a.model, "preprocessor_config.json"))
    with open(os.path.join(a.eval_dir, "eval.jsonl")) as f:
        asked = [json.loads(line) for line in f]
    with open(a.predictions) as f:
        got = [json.loads(line) for line in f]
    if len(got) != len(asked):
        sys.exit(f"{a.predictions}: {len(got)} predictions for {len(asked)} items")
    by_gap, by_count = collections.Counter(), collections.Counter()
    for item, pred, (kind, q, ans, _, _, scene) in zip(asked, got, make_eval_set.items(len(asked), a.seed, world.KINDS)):
        if (q, ans) != (item["question"], item["answer"]):
            sys.exit(f"{a.eval_dir} was not made with --seed {a.seed} and --n {len(asked)}")
        if kind not in LISTING:
            continue
        ok = pred.get("answer", "").strip() == ans
        gap = nearest_gap(scene, cfg["max_pixels"], cfg["min_pixels"])
        bucket = next(b for b in BUCKETS if b[0] <= gap < b[1]) if gap != float("inf") else "one object"
        by_gap[bucket, ok] += 1
        by_count[len(scene.objects), ok] += 1
    print(f"Describe and JSON, {cfg['max_pixels'] // 784} tokens at most per image")
    print("| nearest neighbours (token columns) | items | exact |\n|---|---|---|")
    for b in [*BUCKETS, "one object"]:
        n = by_gap[b, True] + by_gap[b, False]
        label = b if isinstance(b, str) else f"{b[0]}-{b[1]}"
        if n:
            print(f"| {label} | {n} | {100 * by_gap[b, True] / n:.0f}% |")
    print("| objects | items | exact |\n|---|---|---|")
    for k in range(1, world.MAX_OBJECTS + 1):
        n = by_count[k, True] + by_count[k, False]
        if n:
            print(f"| {k} | {n} | {100 * by_count[k, True] / n:.0f}% |")


if __name__ == "__main__":
    main()
