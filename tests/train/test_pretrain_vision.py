#!/usr/bin/python3
"""Vision pretraining: the region targets say what the scene holds where (checked against scenes
built by hand and against the world's own scenes), and a short pretraining run lowers the probe
loss and hands its tower to train.py --vision-init, which keeps it frozen with --vision-lr-scale 0."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bpe  # noqa: E402
import checkpoint  # noqa: E402
import data  # noqa: E402
import regions  # noqa: E402
import world  # noqa: E402

TOKENIZER = os.path.join(ROOT, "models", "dimple-shapes")
TINY = {"hidden": 64, "intermediate": 128, "layers": 2, "heads": 2, "kv_heads": 1, "mrope": "4,6,6",
        "vision_depth": 2, "vision_hidden": 32, "vision_heads": 1, "vision_intermediate": 64,
        "fullatt": "1", "out_hidden": 64}


def scene(objects, width=224, height=112):
    objs = [world.Obj(s, c, world.COLORS[c], x, y, size) for s, c, x, y, size in objects]
    return world.Scene(width, height, (230, 230, 230), sorted(objs, key=lambda o: o.cx))


class RegionTargets(unittest.TestCase):
    def test_hand_built_scene(self):
        # 224x112 at grid (1, 8, 16): regions of 28x28 pixels, 4 rows of 8, no rescaling.
        s = scene([("square", "red", 0, 0, 28), ("circle", "blue", 120, 60, 30)])
        cover, centre, rank = regions.targets(s, (1, 8, 16))
        self.assertEqual(cover.shape, (32, regions.N_CLASSES))
        self.assertTrue(torch.allclose(cover.sum(1), torch.ones(32)))
        red_square = regions.object_class(s.objects[0])
        self.assertAlmostEqual(float(cover[0, red_square]), 1.0)      # the square fills region 0
        self.assertEqual(int(centre[0]), red_square)                  # and its centre (14, 14) is there
        self.assertEqual(int(rank[0]), 1)
        blue_circle = regions.object_class(s.objects[1])
        r = (75 // 28) * 8 + 135 // 28                                # centre (135, 75)
        self.assertEqual(int(centre[r]), blue_circle)
        self.assertEqual(int(rank[r]), 2)
        self.assertEqual(int((centre > 0).sum()), 2)
        self.assertGreater(float(cover[:, blue_circle].sum() * 28 * 28), 0.7 * 30 * 30)  # about pi/4 of its box

    def test_world_scenes_every_object_counted_once(self):
        held = 0
        for j in range(40):
            sc, _, raw, _ = data.scene_and_image(3, "train", j)
            _, grid = data.pixels(raw)
            cover, centre, rank = regions.targets(sc, grid)
            self.assertEqual(cover.shape[0], int(grid[1] * grid[2]) // 4)
            self.assertTrue(np.allclose(cover.sum(1).numpy(), 1.0))
            got = sorted(int(c) for c in centre[centre > 0])
            want = sorted(regions.object_class(o) for o in sc.objects)
            self.assertTrue(set(got) <= set(want))
            held += len(got) == len(want)
            ranks = rank[rank > 0].tolist()
            self.assertEqual(len(set(ranks)), len(ranks))
            self.assertTrue(all(1 <= r <= len(sc.objects) for r in ranks))
            for r in np.nonzero(centre.numpy())[0]:  # the rank names the object whose class is there
                self.assertEqual(regions.object_class(sc.objects[int(rank[r]) - 1]), int(centre[r]))
        self.assertGreaterEqual(held, 36)  # two centres share a region only rarely


class ShortPretraining(unittest.TestCase):
    def test_probe_loss_falls_and_the_tower_is_taken_over(self):
        with tempfile.TemporaryDirectory() as tmp:
            vis = os.path.join(tmp, "vision")
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "pretrain_vision.py"), vis,
                            "--steps", "40", "--images", "4", "--lr", "3e-3", "--warmup", "5",
                            "--val-every", "1000", "--val-images", "4", "--shape", json.dumps(TINY)],
                           check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(vis, "log.jsonl")) as f:
                loss = [json.loads(line)["loss"] for line in f]
            self.assertEqual(len(loss), 40)
            self.assertLess(sum(loss[-6:]) / 6, 0.5 * sum(loss[:6]) / 6)
            self.assertTrue(os.path.exists(os.path.join(vis, "probe.png")))
            tower = torch.load(os.path.join(vis, "vision.pt"))["w"]
            run = os.path.join(tmp, "run")
            # One step of each phase (align, instruct, diffusion) with the tower frozen.
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "train.py"), run, "--steps", "3",
                            "--images", "2", "--questions", "1", "--val-every", "1000", "--val-batches", "1",
                            "--align-frac", "0.34", "--shape", json.dumps(TINY), "--vision-init",
                            os.path.join(vis, "vision.pt"), "--vision-lr-scale", "0"], check=True,
                           stdout=subprocess.DEVNULL)
            with open(os.path.join(run, "log.jsonl")) as f:
                self.assertEqual([json.loads(line)["phase"] for line in f], ["align", "instruct", "diffusion"])
            state = torch.load(os.path.join(run, "state.pt"))["w"]
            for k, v in tower.items():
                self.assertTrue(torch.equal(state[k], v), k)
            fresh = checkpoint.init_weights(checkpoint.config(bpe.Tokenizer(TOKENIZER), dict(checkpoint.SHAPE, **TINY)), 1)
            for k in ("img_projector.linear_1.weight", "model.layers.0.mlp.up_proj.weight"):
                self.assertFalse(torch.equal(state[k], fresh[k].detach()), k)  # the rest did train

    def test_a_run_cut_short_goes_on_where_it_stopped(self):
        """--resume: the steps after the saved one, from its weights and probe (not from scratch)."""
        with tempfile.TemporaryDirectory() as tmp:
            def run(steps, *extra):
                subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "pretrain_vision.py"), tmp,
                                "--steps", str(steps), "--images", "4", "--lr", "3e-3", "--warmup", "5",
                                "--val-every", "1000", "--val-images", "4", "--shape", json.dumps(TINY), *extra],
                               check=True, stdout=subprocess.DEVNULL)
            run(20)
            run(30, "--resume")
            with open(os.path.join(tmp, "log.jsonl")) as f:
                recs = [json.loads(line) for line in f]
            self.assertEqual([r["step"] for r in recs], list(range(1, 31)))
            self.assertEqual(torch.load(os.path.join(tmp, "vision.pt"))["step"], 30)
            first = sum(r["loss"] for r in recs[:3]) / 3
            self.assertLess(sum(r["loss"] for r in recs[20:23]) / 3, 0.7 * first)  # the trained weights went on


if __name__ == "__main__":
    unittest.main()
