#!/usr/bin/python3
"""The shapes world generator keeps every constraint of issue 8, and its answers have the exact
forms the issue states (checked on hand-made scenes and on many random ones)."""
import io
import os
import sys
import unittest

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import data  # noqa: E402
import render  # noqa: E402
import world  # noqa: E402
from world import Obj, Scene  # noqa: E402


def scene(*objs):
    return Scene(200, 150, (230, 230, 230), [Obj(s, c, world.COLORS[c], x, 10, 30) for s, c, x in objs])


class Answers(unittest.TestCase):
    def test_describe_and_json_of_hand_made_scenes(self):
        one = scene(("circle", "red", 10))
        self.assertEqual(world.describe(one), "There is a red circle.")
        self.assertEqual(world.as_json(one), '[{"shape": "circle", "color": "red"}]')
        three = scene(("circle", "red", 10), ("square", "blue", 60), ("triangle", "orange", 110))
        self.assertEqual(world.describe(three), "There are three shapes: a red circle, a blue square and "
                                                "an orange triangle.")
        self.assertEqual(world.as_json(three), '[{"shape": "circle", "color": "red"}, {"shape": "square", '
                                               '"color": "blue"}, {"shape": "triangle", "color": "orange"}]')

    def test_questions_of_a_scene(self):
        s = scene(("circle", "red", 10), ("circle", "blue", 60), ("triangle", "orange", 110))
        qa = {q: (k, a) for k, q, a in world.all_questions(s)}
        self.assertEqual(qa["How many shapes are there?"], ("count", "three"))
        self.assertEqual(qa["How many circles are there?"], ("count_shape", "two"))
        self.assertEqual(qa["How many green shapes are there?"], ("count_color", "zero"))
        self.assertNotIn("What color is the circle?", qa)          # two circles: not asked
        self.assertEqual(qa["What color is the triangle?"], ("color", "orange"))
        self.assertEqual(qa["What shape is the blue one?"], ("shape", "circle"))
        self.assertEqual(qa["Is there an orange triangle?"], ("exists", "yes"))
        self.assertEqual(qa["Is there a red square?"], ("exists", "no"))
        self.assertEqual(qa["What is the leftmost shape?"], ("leftmost", "red circle"))


class Constraints(unittest.TestCase):
    def test_random_scenes_keep_every_constraint(self):
        rng = np.random.default_rng(123)
        for i in range(600):  # the last 100 crowded, as training may ask
            s = sample = world.sample_scene(rng, {3: 1, 4: 1} if i >= 500 else None)
            self.assertTrue(112 <= s.width <= 448 and 112 <= s.height <= 448)
            self.assertTrue(s.width <= 2 * s.height and s.height <= 2 * s.width)
            self.assertTrue(all(200 <= v <= 255 for v in s.background))
            self.assertTrue(1 <= len(s.objects) <= 4)
            short = min(s.width, s.height)
            pairs = {(o.shape, o.color) for o in s.objects}
            self.assertEqual(len(pairs), len(s.objects))
            for i, o in enumerate(sample.objects):
                self.assertTrue(short / 8 <= o.size <= short / 3)
                self.assertTrue(0 <= o.x and o.x + o.size <= s.width and 0 <= o.y and o.y + o.size <= s.height)
                self.assertTrue(all(abs(v - c) <= 20 for v, c in zip(o.rgb, world.COLORS[o.color])))
                for p in s.objects[i + 1:]:
                    apart = (o.x + o.size + 4 <= p.x or p.x + p.size + 4 <= o.x or
                             o.y + o.size + 4 <= p.y or p.y + p.size + 4 <= o.y)
                    self.assertTrue(apart)
                    self.assertGreaterEqual(p.cx - o.cx, 8)  # sorted left to right, 8 px apart

    def test_rendered_files_decode_to_the_scene_size(self):
        rng = np.random.default_rng(5)
        formats = set()
        for j in range(40):
            s, ext, blob, _ = data.scene_and_image(9, "train", j)
            img = Image.open(io.BytesIO(blob))
            formats.add(img.format)
            self.assertEqual(img.size, (s.width, s.height))
            self.assertEqual(ext, {"PNG": "png", "JPEG": "jpg"}[img.format])
        self.assertEqual(formats, {"PNG", "JPEG"})
        # an aliased rendering holds only the background and the objects' colours
        s = world.sample_scene(rng)
        colours = {c for _, c in render.render(s, antialias=False).getcolors(1 << 20)}
        self.assertEqual(colours, {s.background} | {o.rgb for o in s.objects})

    def test_object_weights_shape_training_scenes_only(self):
        counts = lambda split: [len(data.scene_and_image(5, split, j)[0].objects) for j in range(60)]
        uniform = counts("train")
        self.assertEqual(set(uniform), {1, 2, 3, 4})
        try:
            data.TRAIN_COUNT_WEIGHTS = {3: 1, 4: 2}
            crowded, held_out = counts("train"), counts("eval")
        finally:
            data.TRAIN_COUNT_WEIGHTS = None
        self.assertEqual(set(crowded), {3, 4})
        self.assertGreater(crowded.count(4), crowded.count(3))
        self.assertEqual(held_out, counts("eval"))  # the world's own uniform counts

    def test_splits_are_disjoint_streams(self):
        a = data.scene_and_image(1, "train", 0)[2]
        b = data.scene_and_image(1, "eval", 0)[2]
        self.assertNotEqual(a, b)
        self.assertEqual(a, data.scene_and_image(1, "train", 0)[2])

    def test_curriculum_weights_ask_only_the_named_kinds(self):
        rng = np.random.default_rng(5)
        only_colour = scene(("circle", "red", 10), ("square", "blue", 60))
        drawn = {data.weighted_kind(rng, only_colour, {"color": 1}) for _ in range(50)}
        self.assertEqual(drawn, {"color"})
        # a scene that admits none of the named kinds falls back to the full mix
        no_unique_shape = scene(("circle", "red", 10), ("circle", "blue", 60))
        drawn = {data.weighted_kind(rng, no_unique_shape, {"color": 1}) for _ in range(200)}
        self.assertNotIn("color", drawn)
        self.assertGreater(len(drawn), 3)

    def test_prefetched_batches_equal_the_inline_ones(self):
        import bpe
        import torch
        tok = bpe.Tokenizer(os.path.join(ROOT, "models", "dimple-shapes"))
        batches = data.Batches(tok, 3, "train", 2, 3)
        curriculum = lambda step: ({"color": 1}, {1: 1}) if step < 2 else (None, None)  # noqa: E731
        ahead = data.Prefetch(batches, 2, curriculum)
        for step in range(5):
            got, want = ahead.get(step), batches.get(step, *curriculum(step))
            self.assertTrue(torch.equal(got["pixel_values"], want["pixel_values"]), step)
            self.assertTrue((got["grids"] == want["grids"]).all())
            self.assertEqual(got["rows"], want["rows"])
        self.assertEqual({r["kind"] for s in range(2) for r in ahead.batches.get(s, *curriculum(s))["rows"]}, {"color"})
        # the first steps' scenes hold one object each, later ones as the world draws them
        objects = lambda split, j, counts: len(data.scene_and_image(3, split, j, counts)[0].objects)  # noqa: E731
        self.assertEqual({objects("train", j, {1: 1}) for j in range(20)}, {1})
        self.assertGreater(len({objects("train", j, None) for j in range(20)}), 2)
        self.assertGreater(len({objects("val", j, {1: 1}) for j in range(20)}), 2)


class OrderErrors(unittest.TestCase):
    def test_nearest_gap_is_in_token_columns_of_the_resized_image(self):
        import order_errors
        s = scene(("circle", "red", 10), ("square", "blue", 60), ("triangle", "orange", 80))  # centres 25, 75, 95
        # 200x150 at most 12 tokens: resized to 112x84, 4 columns of 28 pixels: 50 pixels apart are
        # 1.0 column, 20 pixels 0.4 of one
        self.assertAlmostEqual(order_errors.nearest_gap(s, 12 * 784, 3136), 20 / 200 * 112 / 28)
        # at most 48 tokens: 196x140, 7 columns
        self.assertAlmostEqual(order_errors.nearest_gap(s, 48 * 784, 3136), 20 / 200 * 196 / 28)
        self.assertEqual(order_errors.nearest_gap(scene(("circle", "red", 10)), 12 * 784, 3136), float("inf"))

    def test_eval_items_carry_their_scene(self):
        import make_eval_set
        for kind, q, ans, _, _, s in make_eval_set.items(18, 1, world.KINDS):
            self.assertIn((kind, q, ans), world.all_questions(s))


if __name__ == "__main__":
    unittest.main()
