#!/usr/bin/python3
"""Writes a held-out evaluation set of the shapes world for `dimple eval`: the images (PNG or JPEG,
as drawn) and OUT_DIR/eval.jsonl, one {"image", "question", "answer", "kind"} object per line
(image paths relative to OUT_DIR). Kinds take turns, so each gets N/9 items; images come from the
evaluation seed stream, never used in training (data.SPLITS), each image used once.

  /usr/bin/python3 tools/train/make_eval_set.py OUT_DIR [--n 450] [--seed 1] [--kinds describe,json]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
import world  # noqa: E402


def items(n, seed, kinds):
    """(kind, question, answer, extension, image bytes, scene) for n items, kinds in turn."""
    j = 0
    for i in range(n):
        kind = kinds[i % len(kinds)]
        while True:
            scene, ext, img, rng = data.scene_and_image(seed, "eval", j)
            j += 1
            q = world.sample_question(rng, scene, kind)
            if q is not None:
                yield kind, q[1], q[2], ext, img, scene
                break


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=450)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(world.KINDS), help="comma separated subset of " +
                    ",".join(world.KINDS))
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    bad = [k for k in kinds if k not in world.KINDS]
    if bad:
        sys.exit(f"unknown kind(s): {', '.join(bad)}")
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    with open(os.path.join(a.out, "eval.jsonl"), "w") as f:
        for i, (kind, q, ans, ext, img, _) in enumerate(items(a.n, a.seed, kinds)):
            rel = f"images/{i:05d}.{ext}"
            with open(os.path.join(a.out, rel), "wb") as g:
                g.write(img)
            f.write(json.dumps({"image": rel, "question": q, "answer": ans, "kind": kind}) + "\n")
    print(f"wrote {a.out}/eval.jsonl: {a.n} items ({', '.join(kinds)})")


if __name__ == "__main__":
    main()
