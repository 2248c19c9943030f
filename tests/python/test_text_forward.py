"""The model without decoding, through the `dimple` package: tokenize / detokenize (equal to
`dimple tokenize`) and the bare forward pass (equal to the goldens and to `dimple forward`), with a
golden generation run of the tokenizer-less golden model. See helpers.py for how to run it.
"""

import json
import os
import tempfile
import unittest

import numpy as np

from helpers import GOLDENS, MODEL, THREADS, dimple, open_test_model, run_cli


def all_close(a, b, atol, rtol):
    """As tests/testing.cpp's dtest::all_close: |a - b| <= atol + rtol * |b| everywhere."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def setUpModule():
    global model
    model = open_test_model()


def tearDownModule():
    model.close()


class Text(unittest.TestCase):
    TEXTS = ["How many shapes are there?", "Describe the image.",
             '[{"shape": "triangle", "color": "green"}, {"shape": "square", "color": "blue"}]',
             "There are four shapes: a green square, a blue circle, a red square and a yellow circle.",
             "  spaces\tand\nnewlines ", "caf\u00e9 \u2014 \u65e5\u672c"]

    def test_tokenize_equals_the_cli_and_round_trips(self):
        for text in self.TEXTS:
            with self.subTest(text=text):
                ids = model.tokenize(text)
                self.assertEqual(ids, json.loads(run_cli("tokenize", "--model", MODEL, "--text", text)))
                self.assertEqual(model.detokenize(ids), text)
                self.assertEqual(run_cli("tokenize", "--model", MODEL, "--decode", "--text", json.dumps(ids))
                                 .decode("utf-8").rstrip("\n"), text)
        self.assertEqual(model.tokenize(""), [])
        self.assertEqual(model.detokenize([]), "")

    def test_detokenize_skip_special(self):
        ids = model.tokenize("three")
        info = model.info
        special = ids + [info.eos_id, info.pad_id, info.pad_id]
        self.assertEqual(model.detokenize(special, skip_special=True), "three")
        full = model.detokenize(special)
        self.assertTrue(full.startswith("three") and len(full) > len("three"), full)
        want = run_cli("tokenize", "--model", MODEL, "--decode", "--text", json.dumps(special)).decode().rstrip("\n")
        self.assertEqual(full, want)
        self.assertEqual(model.detokenize(np.array(special, dtype=np.int64), skip_special=True), "three")

    def test_a_long_text_grows_the_buffers(self):
        text = " ".join(self.TEXTS) * 50
        ids = model.tokenize(text)
        self.assertGreater(len(ids), 1000)
        self.assertEqual(model.detokenize(ids), text)


class Forward(unittest.TestCase):
    def test_golden_logits(self):
        ids = np.load(os.path.join(GOLDENS, "batch_input_ids.npy"))[0]
        want = np.load(os.path.join(GOLDENS, "batch_logits.npy"))[0]
        with dimple.Model(os.path.join(GOLDENS, "model"), compute="f32", threads=None) as golden:
            self.assertEqual(golden.info.compute, "f32")
            self.assertFalse(golden.info.has_tokenizer)
            logits = golden.forward(ids)
            self.assertEqual(logits.dtype, np.float32)
            self.assertEqual(logits.shape, want.shape)
            # tests/cli/test_run.cpp's tolerance for this golden (ForwardCommand.WritesTheGoldenLogits)
            self.assertTrue(all_close(logits, want, 1e-3, 1e-4), float(np.max(np.abs(logits - want))))
            self.assertTrue(np.array_equal(golden.forward(list(ids)), logits))
            with self.assertRaises(dimple.Error) as e:
                golden.tokenize("hello")
            self.assertIn("tokenizer", str(e.exception))

    def test_golden_generation_run(self):
        with open(os.path.join(GOLDENS, "generation.json")) as f:
            run = json.load(f)["runs"][14]  # as tests/cli/test_run.cpp: dim, maskgit_plus, threshold 0.2
        self.assertEqual(run["spec"]["alg"], "maskgit_plus")
        self.assertTrue(run["usable"])
        ids = np.load(os.path.join(GOLDENS, "text_input_ids.npy"))[0]
        with dimple.Model(os.path.join(GOLDENS, "model"), compute="f32", threads=None) as golden:
            r = golden.generate(ids, max_new_tokens=16, steps=16, alg="maskgit_plus", threshold=0.2, use_cache=True,
                                temperature=0, top_p=1, top_k=50)
            self.assertEqual(r.ids, run["history_answer"][-1])
            self.assertEqual(r.steps, run["n_steps_run"])
            self.assertEqual(r.text, "")  # no tokenizer
            stream = golden.stream(list(ids), max_new_tokens=16, steps=16, alg="maskgit_plus", threshold=0.2,
                                   temperature=0, top_p=1, top_k=50)
            self.assertEqual([s.ids for s in stream], run["history_answer"])

    def test_equals_the_cli(self):
        ids = model.tokenize("Describe the image.") + [model.info.mask_id] * 5
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "ids.npy"), np.array([ids], dtype=np.int64))
            run_cli("forward", "--model", MODEL, "--ids", os.path.join(tmp, "ids.npy"), "--out",
                    os.path.join(tmp, "logits.npy"), "--threads", THREADS)
            want = np.load(os.path.join(tmp, "logits.npy"))[0]
        logits = model.forward(ids)
        self.assertEqual(logits.shape, (len(ids), model.info.vocab_size))
        self.assertTrue(all_close(logits, want, 1e-4, 1e-4), float(np.max(np.abs(logits - want))))


if __name__ == "__main__":
    unittest.main()
