#!/usr/bin/python3
"""The shapes tokenizer (models/dimple-shapes) is what tools/train/make_tokenizer.py writes, and it
splits every text of the world exactly as the full Qwen2 tokenizer does, id for id after
renumbering: checked with the JavaScript reference tokenizer (tools/npm/reference.mjs) on both, with
the C++ engine (`dimple tokenize --jsonl`) and with the Python encoder training uses.

  /usr/bin/python3 tests/train/test_tokenizer.py PATH_TO_DIMPLE_CLI
"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import bpe  # noqa: E402
import data  # noqa: E402
import make_tokenizer  # noqa: E402
import world  # noqa: E402

MODEL = os.path.join(ROOT, "models", "dimple-shapes")
CLI = None


def texts():
    """Template pieces, questions, answers of 300 fresh scenes, and whole chat prompts."""
    out = make_tokenizer.world_texts(n_scenes=300, seed=77)
    for q in [q for q in world.all_texts() if q.endswith((".", "?"))]:
        out.append(data.chat_prompt(q, 3))
    return list(dict.fromkeys(out))


def token_strings(folder):
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        by_id = {i: t for t, i in json.load(f).items()}
    with open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8") as f:
        by_id.update({int(i): t["content"] for i, t in json.load(f)["added_tokens_decoder"].items()})
    return by_id


class ShapesTokenizer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.full = os.path.join(cls.tmp.name, "full")
        cls.rebuilt = os.path.join(cls.tmp.name, "subset")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_dimple_tokenizer.py"),
                        make_tokenizer.FULL, cls.full], check=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "make_tokenizer.py"),
                        cls.rebuilt], check=True, stdout=subprocess.DEVNULL)
        cls.texts = texts()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_committed_files_are_the_generated_ones(self):
        for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
            self.assertTrue(filecmp.cmp(os.path.join(MODEL, name), os.path.join(self.rebuilt, name),
                                        shallow=False), name)

    def test_javascript_reference_agrees_with_the_full_tokenizer(self):
        req = "".join(json.dumps(t) + "\n" for t in self.texts)
        res = subprocess.run(["node", os.path.join(ROOT, "tools", "npm", "reference.mjs"), self.full, MODEL],
                             input=req, capture_output=True, text=True, check=True)
        full_tokens = token_strings(self.full)
        subset_ids = {t: i for i, t in token_strings(MODEL).items()}
        python = bpe.Tokenizer(MODEL)
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), len(self.texts))
        for text, line in zip(self.texts, lines):
            full, subset = json.loads(line)
            self.assertEqual([subset_ids[full_tokens[i]] for i in full], subset, text)
            self.assertEqual(python.encode(text), subset, text)

    def test_engine_agrees(self):
        req = "".join(json.dumps(t) + "\n" for t in self.texts)
        res = subprocess.run([CLI, "tokenize", "--model", MODEL, "--jsonl"], input=req,
                             capture_output=True, text=True, check=True)
        python = bpe.Tokenizer(MODEL)
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), len(self.texts))
        for text, line in zip(self.texts, lines):
            self.assertEqual(json.loads(line), python.encode(text), text)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    CLI = sys.argv.pop(1)
    unittest.main()
