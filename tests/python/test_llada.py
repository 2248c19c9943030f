"""A LLaDA model through the `dimple` package (tests/goldens/llada-tiny): LLaDA's options by name
(remasking, cfg_scale) reach its sampler, and guided answers are the ORIGINAL generate()'s. See
helpers.py for how to run it.
"""

import json
import os
import unittest

from helpers import REPO, THREADS, dimple

LLADA = os.path.join(REPO, "tests", "goldens", "llada-tiny")


def golden_run(name):
    # generation.json holds Python's Infinity in places: json.load reads it.
    with open(os.path.join(LLADA, "generation.json")) as f:
        runs = json.load(f)["runs"]
    return next(r for r in runs if r["name"] == name)


def layout(run):
    o = run["options"]
    return {"steps": o["steps"], "max_new_tokens": o["gen_length"], "block_length": o["block_length"]}


class LladaOptions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = dimple.Model(os.path.join(LLADA, "model"), compute="f32", threads=THREADS)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def test_guidance_answers_as_the_original(self):
        run = golden_run("cfg2.0_lc_p1_g16_b8_s8")
        prompt = run["prompt_ids"][0]
        r = self.model.generate(prompt, remasking="low_confidence", cfg_scale=2.0, **layout(run))
        self.assertEqual(list(r.ids), run["answer"][0])
        plain = self.model.generate(prompt, cfg_scale=0.0, **layout(run))
        self.assertNotEqual(list(plain.ids), list(r.ids))

    def test_random_remasking_is_seeded_and_bad_names_are_refused(self):
        run = golden_run("lc_p1_g16_b16_s16")
        prompt = run["prompt_ids"][0]
        a = self.model.generate(prompt, remasking="random", seed=3, **layout(run))
        b = self.model.generate(prompt, remasking="random", seed=3, **layout(run))
        self.assertEqual(list(a.ids), list(b.ids))
        self.assertEqual(list(self.model.generate(prompt, **layout(run)).ids), run["answer"][0])
        with self.assertRaises(dimple.Error) as e:
            self.model.generate(prompt, remasking="sideways", **layout(run))
        self.assertIn("sideways", str(e.exception))
        self.assertEqual(e.exception.status_name, "refused")


if __name__ == "__main__":
    unittest.main()
