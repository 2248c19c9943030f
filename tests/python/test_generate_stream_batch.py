"""Decoding through the `dimple` package: Model.generate (equal to the `dimple run` CLI, every kind
of prompt, image and decoding option, threads sharing a model), Model.stream (its steps, and
cancelling) and Model.generate_batch (equal to answering alone). See helpers.py for how to run it.
"""

import gc
import json
import os
import pathlib
import threading
import unittest

import numpy as np
from PIL import Image  # Debian's python3-pil; scripts/setup dev installs it

from helpers import MODEL, SHAPES1, SHAPES3, THREADS, dimple, open_test_model, run_cli


# Questions of the shapes world the shipped model answers (its README; tests/cli, tools/train), with
# decoding options of every kind.
CASES = [
    ("How many shapes are there?", SHAPES1, None, {}),
    ("Describe the image.", SHAPES1, None, {"max_new_tokens": 32}),
    ("List the shapes as JSON.", SHAPES3, None, {"max_new_tokens": 48, "steps": 24, "threshold": 0.5}),
    ("Is there a blue square?", SHAPES1, "You are a helpful assistant.", {"alg": "maskgit_plus"}),
    ("Describe the image.", SHAPES3, None, {"max_new_tokens": 32, "early_stop": "loop", "block_length": 8,
                                           "dual_cache": True}),
    ("List the shapes as JSON.", SHAPES1, None, {"max_new_tokens": 48, "prune_layer": 1, "prune_keep": 0.5,
                                                "alg": "entropy"}),
    ("Describe the image.", SHAPES1, None, {"max_new_tokens": 32, "skip_layers": "1-2", "skip_from": 2,
                                           "pipeline": "dream", "alg": "topk_margin"}),
    ("List the shapes as JSON.", SHAPES1, None, {"max_new_tokens": 48,
                                                "answer_template": '[{"shape": "<mask:2>", "color": "<mask:2>"}, <mask:30>'}),
    ("Describe the image.", SHAPES3, None, {"max_new_tokens": 32, "speed": "faster", "prune_keep": 0.75}),
    ("Describe the image.", SHAPES1, None, {"max_new_tokens": 32, "temperature": 0.7, "top_p": 0.9, "top_k": 20,
                                           "seed": 5, "alg_temp": 0.3, "use_cache": False,
                                           "original_confidence": False}),
]

# dimple_decoding_options name -> `dimple run` flag
CLI_FLAGS = {"max_new_tokens": "-n", "steps": "-s", "threshold": "--threshold", "alg": "--alg", "temperature": "-t",
             "early_stop": "--early-stop", "block_length": "--block-length", "prune_layer": "--prune-layer",
             "prune_keep": "--prune-keep", "skip_layers": "--skip-layers", "skip_from": "--skip-from",
             "pipeline": "--pipeline", "answer_template": "--template", "top_p": "--top-p", "top_k": "--top-k",
             "seed": "--seed", "alg_temp": "--alg-temp", "speed": "--speed"}
CLI_SWITCHES = {("dual_cache", True): "--dual-cache", ("use_cache", False): "--no-cache",
                ("original_confidence", False): "--processed-confidence"}


def cli_run(prompt, image, system, options):
    args = ["run", "--model", MODEL, "--json", "-p", prompt, "-i", image, "--threads", THREADS]
    if system is not None:
        args += ["--system", system]
    for name, value in dict({"temperature": 0}, **options).items():
        args += [CLI_SWITCHES[name, value]] if isinstance(value, bool) else [CLI_FLAGS[name], value]
    return json.loads(run_cli(*args))


def setUpModule():
    global model
    model = open_test_model()


def tearDownModule():
    model.close()


class Generate(unittest.TestCase):
    def test_equals_the_cli(self):
        for prompt, image, system, options in CASES:
            with self.subTest(prompt=prompt, image=os.path.basename(image)):
                want = cli_run(prompt, image, system, options)
                r = model.generate(prompt, images=[image], system=system, **dict({"temperature": 0}, **options))
                self.assertEqual(r.ids, want["answer_ids"])
                self.assertEqual(r.text, want["text"])
                self.assertEqual(r.steps, want["steps"])
                self.assertEqual(r.answer_tokens, want["answer_tokens"])
                self.assertEqual(r.prompt_tokens, want["prompt_tokens"])
                self.assertTrue(r.finished)
                self.assertEqual(len(r.step_seconds), r.steps)
                self.assertGreaterEqual(r.prompt_seconds, 0)
                self.assertAlmostEqual(r.decode_seconds, sum(r.step_seconds), delta=1e-3 + 0.05 * r.decode_seconds)

    def test_the_shipped_example(self):
        r = model.generate("How many shapes are there?", images=[SHAPES1], temperature=0)
        self.assertEqual(r.text, "three")
        r = model.generate("Describe the image.", images=SHAPES1, temperature=0)  # one image, not in a list
        self.assertEqual(r.text, "There are three shapes: a green triangle, a blue square and a green circle.")

    def test_image_as_path_pil_and_numpy_answer_alike(self):
        for path in (SHAPES1, SHAPES3):
            with self.subTest(image=os.path.basename(path)):
                want = model.generate("Describe the image.", images=[path], temperature=0, max_new_tokens=40)
                pil = Image.open(path)
                pixels = np.asarray(pil.convert("RGB"))
                forms = {
                    "pathlib": pathlib.Path(path),
                    "PIL": pil,
                    "PIL RGBA": pil.convert("RGBA").convert("RGB").convert("RGBA"),  # alpha 255: converted
                    "numpy": pixels,
                    "numpy Fortran-ordered": np.asfortranarray(pixels),
                    "numpy view, negative strides": np.flip(np.flip(pixels, 1), 1),
                }
                for name, image in forms.items():
                    r = model.generate("Describe the image.", images=[image], temperature=0, max_new_tokens=40)
                    self.assertEqual(r.ids, want.ids, name)
                    self.assertEqual(r.text, want.text, name)
                    self.assertEqual(r.prompt_tokens, want.prompt_tokens, name)

    def test_messages_equal_a_prompt(self):
        want = model.generate("How many shapes are there?", images=[SHAPES3], system="Answer briefly.", temperature=0)
        r = model.generate([{"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": "How many shapes are there?", "images": [SHAPES3]}],
                           temperature=0)
        self.assertEqual(r.ids, want.ids)
        self.assertEqual(r.text, want.text)

    def test_chat_template_tokens_equal_the_cli(self):
        q = "How many shapes are there?"
        text = model.chat_template([{"role": "user", "content": q, "images": [SHAPES1]}])
        self.assertTrue(text.rstrip().endswith("assistant"), text)
        self.assertIn(q, text)
        want = json.loads(run_cli("tokenize", "--model", MODEL, "--chat", "--images", 1, "--text", q))
        self.assertEqual(model.tokenize(text), want)

    def test_two_images_in_one_turn(self):
        r = model.generate("How many shapes are there?", images=[SHAPES1, SHAPES3], temperature=0)
        one = model.generate("How many shapes are there?", images=[SHAPES1], temperature=0)
        self.assertGreater(r.prompt_tokens, one.prompt_tokens)
        self.assertTrue(r.finished)

    def test_structure_priors(self):
        eos = model.info.eos_id
        r = model.generate("Describe the image.", images=[SHAPES1], temperature=0, max_new_tokens=32, length=10)
        self.assertEqual(r.ids[10], eos)
        self.assertEqual(r.answer_tokens, 10)
        tok = model.tokenize("There")
        r = model.generate("How many shapes are there?", images=[SHAPES1], temperature=0, fix_ids={0: tok[0]})
        self.assertEqual(r.ids[0], tok[0])
        r2 = model.generate("How many shapes are there?", images=[SHAPES1], temperature=0, fix_ids="0:%d" % tok[0])
        self.assertEqual(r.ids, r2.ids)

    def test_sampling_is_seeded(self):
        a = model.generate("Describe the image.", images=[SHAPES3], temperature=1.0, seed=7, max_new_tokens=40)
        b = model.generate("Describe the image.", images=[SHAPES3], temperature=1.0, seed=7, max_new_tokens=40)
        self.assertEqual(a.ids, b.ids)

    def test_threads_share_a_model(self):
        want = model.generate("Describe the image.", images=[SHAPES3], temperature=0, max_new_tokens=40)
        got, errors = [], []

        def work():
            try:
                for _ in range(3):
                    got.append(model.generate("Describe the image.", images=[SHAPES3], temperature=0,
                                              max_new_tokens=40).ids)
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(got, [want.ids] * 9)


class Stream(unittest.TestCase):
    OPTIONS = dict(temperature=0, max_new_tokens=32, steps=16, threshold=0)

    def test_steps_end_in_the_result(self):
        want = model.generate("Describe the image.", images=[SHAPES1], **self.OPTIONS)
        stream = model.stream("Describe the image.", images=[SHAPES1], **self.OPTIONS)
        steps = list(stream)
        r = stream.result
        self.assertIsNotNone(r)
        self.assertEqual(len(steps), r.steps)
        self.assertEqual(r.steps, want.steps)
        self.assertGreater(r.steps, 1)
        self.assertEqual(r.ids, want.ids)
        self.assertEqual(r.text, want.text)
        self.assertEqual(steps[-1].ids, r.ids)
        self.assertEqual(steps[-1].text, r.text)
        self.assertTrue(steps[-1].finished)
        self.assertFalse(any(s.finished for s in steps[:-1]))
        self.assertEqual([s.step for s in steps], list(range(1, len(steps) + 1)))
        mask = model.info.mask_id
        before = [False] * 32
        for s in steps:
            self.assertEqual(len(s.ids), 32)
            self.assertEqual(len(s.committed), 32)
            # committed positions stay committed with the same token
            self.assertTrue(all(c or not b for b, c in zip(before, s.committed)), s.step)
            self.assertEqual(sorted(s.newly_committed), [i for i in range(32) if s.committed[i] and not before[i]])
            self.assertEqual(s.masks_left, sum(1 for t in s.ids if t == mask))
            self.assertTrue(all(t != mask for t, c in zip(s.ids, s.committed) if c))
            before = s.committed
        counts = [sum(s.committed) for s in steps]
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(counts[-1], 32)
        self.assertEqual(steps[-1].masks_left, 0)
        elapsed = [s.elapsed_seconds for s in steps]
        self.assertEqual(elapsed, sorted(elapsed))
        texts = [s.text for s in steps]  # the final text grows by extension
        for a, b in zip(texts, texts[1:]):
            self.assertTrue(b.startswith(a), (a, b))
        self.assertEqual(list(stream), [])  # exhausted

    def test_closed_early_cancels(self):
        with model.stream("Describe the image.", images=[SHAPES1], **self.OPTIONS) as stream:
            for s in stream:
                if s.step == 3:
                    break
        self.assertIsNotNone(stream.result)
        self.assertFalse(stream.result.finished)
        self.assertEqual(stream.result.steps, 3)
        self.assertEqual(list(stream), [])
        for i in range(30):  # every way to drop a stream; nothing leaks or crashes
            s = model.stream("Describe the image.", images=[SHAPES1], **self.OPTIONS)
            if i % 3 == 0:
                next(s)
                s.close()
            elif i % 3 == 1:
                next(s)
                del s
                gc.collect()
            else:
                del s  # never stepped
        r = model.generate("Describe the image.", images=[SHAPES1], **self.OPTIONS)
        self.assertTrue(r.finished)

    def test_closing_the_model_closes_its_streams(self):
        m = dimple.Model(MODEL, threads=None)
        s = m.stream("How many shapes are there?", images=[SHAPES1], temperature=0)
        m.close()
        self.assertEqual(list(s), [])
        self.assertTrue(m.closed)
        with self.assertRaises(ValueError):
            m.generate("How many shapes are there?", images=[SHAPES1])


class Batch(unittest.TestCase):
    def test_answers_equal_solo_answers(self):
        items = [
            {"prompt": "How many shapes are there?", "images": [SHAPES1]},
            {"prompt": "Describe the image.", "images": [SHAPES3], "max_new_tokens": 40},
            {"prompt": "List the shapes as JSON.", "images": [SHAPES1], "max_new_tokens": 48, "threshold": 0.5},
            [{"role": "user", "content": "Is there a red square?", "images": [SHAPES3]}],
        ]
        results = model.generate_batch(items, temperature=0)
        self.assertEqual(len(results), len(items))
        for item, r in zip(items, results):
            if isinstance(item, dict):
                kw = dict(item)
                solo = model.generate(kw.pop("prompt"), images=kw.pop("images"), temperature=0, **kw)
            else:
                solo = model.generate(item, temperature=0)
            self.assertEqual(r.ids, solo.ids)
            self.assertEqual(r.text, solo.text)
            self.assertEqual(r.steps, solo.steps)
        self.assertEqual(model.generate_batch([]), [])

    def test_a_bad_item_frees_the_others(self):
        with self.assertRaises(dimple.Error):
            model.generate_batch([{"prompt": "How many shapes are there?", "images": [SHAPES1]},
                                  {"prompt": "Describe the image.", "images": [SHAPES1], "alg": "nope"}])
        with self.assertRaises(TypeError):
            model.generate_batch([{"images": [SHAPES1]}])


if __name__ == "__main__":
    unittest.main()
