#!/usr/bin/python3
"""Writes the demo images examples/shapes-1.png, shapes-2.jpg, shapes-3.png: antialiased scenes of
the shapes world with 2-4 objects from their own seed stream (never trained on), and prints each
one's Describe and JSON answers.

  /usr/bin/python3 tools/train/make_examples.py [OUT_DIR (default examples)] [--seed 1]
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
import render  # noqa: E402
import world  # noqa: E402

FILES = (("shapes-1", "png", 3), ("shapes-2", "jpeg", 2), ("shapes-3", "png", 4))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="examples")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    j = 0
    for name, fmt, n_objects in FILES:
        while True:  # the next scene of the stream with the wanted number of objects
            rng = np.random.default_rng([a.seed, data.SPLITS["examples"], j])
            j += 1
            scene = world.sample_scene(rng)
            if len(scene.objects) == n_objects and max(scene.width, scene.height) <= 320:
                break
        path = os.path.join(a.out, f"{name}.{'jpg' if fmt == 'jpeg' else fmt}")
        with open(path, "wb") as f:
            f.write(render.encode(render.render(scene, antialias=True), fmt, quality=90))
        print(f"{path}: {world.describe(scene)}\n  {world.as_json(scene)}")


if __name__ == "__main__":
    main()
