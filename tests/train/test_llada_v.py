#!/usr/bin/python3
"""The toy LLaDA-V's training side (models/llada-v-shapes, tools/train --arch llada-v):
- our PyTorch LLaDA-V (tools/llada_v_ref) computes what the original code computed on the tiny
  random LLaDA-V of tests/goldens/llada-v-tiny (preprocessing bit for bit, tower, image rows, LM);
- the committed tokenizer is what make_llada_v_tokenizer.py writes, and training's Python encoder
  splits every world text and every chat prompt (image marker included) as the engine does;
- the objective scores exactly the masked rows (image rows spliced in before them), and each of a
  picture's packed questions is computed as it would be alone after the shared prompt;
- a short diffusion run of a very small LLaDA-V lowers its loss, exports the published layout,
  and the engine loads that folder, computes the same logits as the training model and measures
  the same attention to the image (`dimple eval --image-attention`) as the reference's.

  /usr/bin/python3 tests/train/test_llada_v.py PATH_TO_DIMPLE_CLI
"""
import filecmp
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
import llada_v_checkpoint as C  # noqa: E402
import llada_v_data as D  # noqa: E402
import llada_v_objective as O  # noqa: E402
import llada_v_probe as P  # noqa: E402
import world  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402
from llada_v_ref import model as M  # noqa: E402

MODEL = os.path.join(ROOT, "models", "llada-v-shapes")
TINY = {"hidden": 32, "intermediate": 64, "layers": 2, "heads": 2, "tower_hidden": 16, "tower_intermediate": 32,
        "tower_layers": 2, "tower_heads": 1}
CLI = None
PY = sys.executable


def texts():
    rng = np.random.default_rng(77)
    out = world.all_texts()
    for _ in range(200):
        scene = world.sample_scene(rng)
        out += [world.describe(scene), world.as_json(scene)]
    return list(dict.fromkeys(out))


class ReferenceAgainstOriginal(unittest.TestCase):
    def test_reference_matches_the_original_goldens(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([PY, os.path.join(ROOT, "tools", "llada", "make_tiny_llada_v.py"), tmp], check=True,
                           stdout=subprocess.DEVNULL)
            res = subprocess.run([PY, os.path.join(ROOT, "tools", "llada_v_ref", "check_goldens.py"), tmp],
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("all checks passed", res.stdout)


class Tokenizer(unittest.TestCase):
    def test_committed_files_are_the_generated_ones(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([PY, os.path.join(ROOT, "tools", "train", "make_llada_v_tokenizer.py"), tmp], check=True,
                           stdout=subprocess.DEVNULL)
            for name in ("tokenizer.json", "tokenizer_config.json"):
                self.assertTrue(filecmp.cmp(os.path.join(MODEL, name), os.path.join(tmp, name), shallow=False), name)

    def test_engine_agrees_on_texts_and_image_prompts(self):
        tok = bpe.Tokenizer(MODEL)
        ts = texts()
        res = subprocess.run([CLI, "tokenize", "--model", MODEL, "--jsonl"], input="".join(json.dumps(t) + "\n" for t in ts),
                             capture_output=True, text=True, check=True)
        for text, line in zip(ts, res.stdout.splitlines(), strict=True):
            self.assertEqual(json.loads(line), tok.encode(text), text)
        questions = [t for t in world.all_texts() if t.endswith((".", "?"))]
        res = subprocess.run([CLI, "tokenize", "--model", MODEL, "--jsonl", "--chat", "--chat-template", "llada-v",
                              "--images", "1"], input="".join(json.dumps(q) + "\n" for q in questions),
                             capture_output=True, text=True, check=True)
        for q, line in zip(questions, res.stdout.splitlines(), strict=True):
            self.assertEqual(json.loads(line), D.tokenize_with_images(tok, D.first_prompt(q)), q)


class Objective(unittest.TestCase):
    """What the diffusion loss reads, seen from outside: lm_forward's inputs captured."""

    @classmethod
    def setUpClass(cls):
        tok, cfg, w, cls.m = C.fresh_model(MODEL, json.dumps(TINY), 0)
        cls.batch = D.Batches(tok, 5, "train", 2, questions_per_image=3).get(0)
        seen = {}
        forward = M.lm_forward

        def capture(w, s, x, allowed=None, output_rows=None, positions=None):
            seen.update(x=x, allowed=allowed, rows=output_rows, positions=positions)
            return forward(w, s, x, allowed, output_rows, positions=positions)
        O.M.lm_forward = capture
        try:
            with torch.no_grad():
                O.loss(cls.m, cls.batch, "diffusion", torch.Generator().manual_seed(3))
        finally:
            O.M.lm_forward = forward
        cls.seen = seen

    def test_the_loss_scores_the_masked_rows(self):
        b, r = self.seen["rows"]
        table = self.m.w["model.embed_tokens.weight"]
        for seq in range(2):
            scored = {int(c) for bb, c in zip(b.tolist(), r.tolist()) if bb == seq}
            masks = set(torch.nonzero((self.seen["x"][seq] == table[self.m.mask_id]).all(-1)).flatten().tolist())
            self.assertTrue(scored)
            self.assertEqual(scored, masks)

    def test_each_question_is_computed_as_if_alone(self):
        """Packed, a question's rows get the logits they get in [shared prompt ; that question]
        alone (positions from 0, the prompt's rows not seeing the question's)."""
        x, allowed, pos = self.seen["x"], self.seen["allowed"], self.seen["positions"]
        sizes = self.m.sizes
        with torch.no_grad():
            images = M.images_rows(self.m.w, sizes, self.batch["pixel_values"], self.batch["crops_per_image"],
                                   self.batch["sizes"])
            packed = M.lm_forward(self.m.w, sizes, x, allowed, positions=pos)
            for seq, rows in enumerate(self.batch["rows"]):
                shared = len(rows["prefix"]) - 1 + len(images[seq])
                starts = torch.nonzero(pos[seq] == shared).flatten().tolist()
                ends = starts[1:] + [int(torch.nonzero(pos[seq] >= shared).max()) + 1]
                self.assertEqual(len(starts), len(rows["branches"]))
                for (a, e), br in zip(zip(starts, ends), rows["branches"]):
                    self.assertGreaterEqual(e - a, len(br["question"]) + len(br["answer"]))
                    alone = torch.cat([x[seq, :shared], x[seq, a:e]])[None]
                    sees = torch.ones(1, len(alone[0]), len(alone[0]), dtype=torch.bool)
                    sees[0, :shared, shared:] = False
                    want = M.lm_forward(self.m.w, sizes, alone, sees)[0, shared:]
                    self.assertTrue(torch.allclose(packed[seq, a:e], want, rtol=0, atol=1e-5), (seq, a))


    def test_pad_free_answers_end_at_their_end_token(self):
        """train.py --pad-free-steps: no trailing pad is added, scored or masked."""
        answer = self.batch["rows"][0]["branches"][0]["answer"]
        gen = torch.Generator().manual_seed(4)
        for _ in range(20):
            ids, masked, targets = O.noisy_answer(self.m, answer, gen, pads=False)
            self.assertEqual(len(ids), len(answer))
            self.assertNotIn(self.m.pad_id, targets)
        padded = [len(O.noisy_answer(self.m, answer, gen)[0]) for _ in range(50)]
        self.assertGreater(max(padded), len(answer) + O.SHORT_TAIL)   # pads, long tails included, by default

    def test_the_tower_skips_the_base_view_it_would_drop(self):
        """"nobase": the rows are the full tower's rows without the base view's (which the tower no
        longer computes)."""
        self.assertFalse(self.m.sizes.base)
        b = self.batch
        with torch.no_grad():
            skipped = M.images_rows(self.m.w, self.m.sizes, b["pixel_values"], b["crops_per_image"], b["sizes"])
            full = M.project(self.m.w, M.tower_forward(self.m.w, self.m.sizes, b["pixel_values"]))
        for got, crops, size in zip(skipped, torch.split(full, b["crops_per_image"]), b["sizes"]):
            self.assertTrue(torch.allclose(got, M.tile_rows(self.m.w, self.m.sizes, crops[1:], size), rtol=0, atol=1e-5))


class ReadingProbe(unittest.TestCase):
    """llada_v_probe: the colour and shape of one-object scenes, the picture the only road to the answer."""

    @classmethod
    def setUpClass(cls):
        cls.tok, _, cls.w, cls.m = C.fresh_model(MODEL, json.dumps(TINY), 0)
        cls.items = P.items(cls.tok, 1, 4)

    def test_items_ask_the_colour_of_the_only_object(self):
        colours = {self.tok.encode(c)[0] for c in world.COLORS}
        for pv, size, ids, colour in self.items:
            self.assertEqual(ids.count(M.IMAGE_ID), 1)
            self.assertIn(colour, colours)
            text = self.tok.decode([i for i in ids if i != M.IMAGE_ID])
            self.assertRegex(text, r"What color is the (circle|square|triangle)\?")
        self.assertGreater(len({it[3] for it in P.items(self.tok, 1, 24)}), 3)

    def test_shape_items_ask_the_shape_of_the_same_objects(self):
        shapes = {self.tok.encode(s)[0] for s in world.SHAPES}
        for (pv, size, ids, shape), colour_item in zip(P.items(self.tok, 1, 4, "shape"), self.items):
            self.assertIn(shape, shapes)
            self.assertTrue(torch.equal(pv, colour_item[0]))
            text = self.tok.decode([i for i in ids if i != M.IMAGE_ID])
            self.assertRegex(text, r"What shape is the (red|green|blue|yellow|purple|orange) one\?")
        scores = P.validation_scores(self.m, P.validation_items(self.tok, 1))
        self.assertEqual(set(scores), {"probe_acc", "probe_ce", "probe_shape_acc", "probe_shape_ce"})

    def test_only_the_picture_moves_the_score(self):
        self.assertNotEqual(P.score(self.m, self.items), P.score(self.m, self.items, blank=True))
        saved = self.w["model.mm_projector.2.weight"].detach().clone()
        with torch.no_grad():
            self.w["model.mm_projector.2.weight"].zero_()   # every image row 0 (the bias is 0 too)
        try:
            self.assertEqual(P.score(self.m, self.items), P.score(self.m, self.items, blank=True))
        finally:
            with torch.no_grad():
                self.w["model.mm_projector.2.weight"].copy_(saved)


class ShortTraining(unittest.TestCase):
    def test_loss_falls_and_the_engine_computes_the_exported_model(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([PY, os.path.join(ROOT, "tools", "train", "train.py"), tmp, "--arch", "llada-v",
                            "--recipe", "diffusion", "--steps", "40", "--images", "2", "--questions", "0", "--lr", "3e-3",
                            "--warmup", "5", "--val-every", "1000", "--val-batches", "1", "--shape", json.dumps(TINY)],
                           check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(tmp, "log.jsonl")) as f:
                loss = [json.loads(line)["loss"] for line in f]
            self.assertLess(sum(loss[-8:]) / 8, 0.8 * sum(loss[:8]) / 8)
            folder = os.path.join(tmp, "model")
            cfg = json.load(open(os.path.join(folder, "config.json")))
            tower = json.load(open(os.path.join(folder, "siglip-shapes", "config.json")))
            self.assertEqual((cfg["model_type"], cfg["mm_vision_tower"]), ("llava_llada", "siglip-shapes"))
            w = {k: torch.from_numpy(np.ascontiguousarray(S.to_float(dt, a))) for k, (dt, a) in S.read_folder(folder).items()}
            tok = bpe.Tokenizer(folder)
            ids = tok.encode(D.first_prompt("How many shapes are there?").replace("<image>\n", "")) + [cfg["mask_token_id"]] * 4
            np.save(os.path.join(tmp, "ids.npy"), np.array([ids], np.int64))
            subprocess.run([CLI, "forward", "--model", folder, "--ids", os.path.join(tmp, "ids.npy"), "--out",
                            os.path.join(tmp, "logits.npy"), "--compute", "f32", "--threads", "1"], check=True,
                           capture_output=True)
            with torch.no_grad():
                want = M.lm_forward(w, M.Sizes(cfg, tower), M.splice(w, ids, [])[None])[0].numpy()
            got = np.load(os.path.join(tmp, "logits.npy"))[0]
            self.assertLess(float(np.abs(got - want).max()), 1e-4 * max(1.0, float(np.abs(want).max())))
            self.check_image_attention(tmp, folder, w, M.Sizes(cfg, tower), tok, cfg)
            res = subprocess.run([CLI, "run", "--model", folder, "--image", os.path.join(ROOT, "examples", "shapes-1.png"),
                                  "--prompt", "How many shapes are there?", "--max-new-tokens", "8", "--steps", "8",
                                  "--threads", "1"], capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stderr)

    def check_image_attention(self, tmp, folder, w, sizes, tok, cfg):
        """`dimple eval --image-attention`'s first step equals the share computed here from the
        reference's attention probabilities (answer rows' mass on the image rows, mean over heads)."""
        image = os.path.join(ROOT, "examples", "shapes-1.png")
        question = "How many shapes are there?"
        data, pred = os.path.join(tmp, "item.jsonl"), os.path.join(tmp, "pred.jsonl")
        with open(data, "w") as f:
            f.write(json.dumps({"image": image, "question": question, "answer": "three", "kind": "count"}) + "\n")
        subprocess.run([CLI, "eval", "--model", folder, "--data", data, "--predictions", pred, "--image-attention",
                        "-n", "8", "-s", "8", "--no-cache", "--compute", "f32", "--threads", "1"], check=True,
                       capture_output=True)
        got = json.loads(open(pred).readline())["image_attention"][0]
        from PIL import Image
        from llada_v_ref import preprocess as P
        pv, size = P.preprocess(Image.open(image), cfg["image_grid_pinpoints"])
        ids = D.tokenize_with_images(tok, D.first_prompt(question))
        shares = []
        with torch.no_grad():
            rows = M.images_rows(w, sizes, pv, [len(pv)], [size])
            prompt = M.splice(w, ids, rows)
            masks = M.splice(w, [cfg["mask_token_id"]] * 8, [])
            start = ids.index(D.IMAGE_ID)
            image_cols = slice(start, start + len(rows[0]))
            answer_rows = slice(len(prompt), len(prompt) + 8)
            probe = lambda layer, p: shares.append(float(p[0, :, answer_rows, image_cols].sum(-1).mean()))  # noqa: E731
            M.lm_forward(w, sizes, torch.cat([prompt, masks])[None], attention_probe=probe)
        self.assertEqual(len(got), len(shares))
        for layer, (g, want) in enumerate(zip(got, shares)):
            self.assertAlmostEqual(g, want, delta=1e-4, msg=f"layer {layer}")


if __name__ == "__main__":
    CLI = sys.argv.pop(1)
    unittest.main()
