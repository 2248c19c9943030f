#!/usr/bin/python3
"""A short training run of both recipes on a very small model (about a minute on one core): the
loss of each objective must fall, and the exported checkpoint must load in the reference and give
finite logits. Also checks the reference's causal attention (used by autoregressive training)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from dimple_ref import model as M  # noqa: E402

TINY = {"hidden": 64, "intermediate": 128, "layers": 2, "heads": 2, "kv_heads": 1, "mrope": "4,6,6",
        "vision_depth": 2, "vision_hidden": 32, "vision_heads": 1, "vision_intermediate": 64,
        "fullatt": "1", "out_hidden": 64}


def train(out, recipe, steps, *extra):
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "train.py"), out, "--recipe", recipe,
                    "--steps", str(steps), "--images", "4", "--questions", "2", "--lr", "3e-3",
                    "--warmup", "5", "--val-every", "1000", "--val-batches", "1", "--shape", json.dumps(TINY),
                    *extra], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "log.jsonl")) as f:
        return [json.loads(line) for line in f]


def falls(test, recs, objective, k=6):
    loss = [r["loss"] for r in recs if r["objective"] == objective]
    test.assertGreaterEqual(len(loss), 3 * k, objective)
    first, last = sum(loss[:k]) / k, sum(loss[-k:]) / k
    test.assertLess(last, 0.8 * first, f"{objective} loss {first:.3f} -> {last:.3f}")


class ShortTraining(unittest.TestCase):
    def test_ar_then_diffusion_loss_falls_and_exports(self):
        with tempfile.TemporaryDirectory() as tmp:
            recs = train(tmp, "ar-then-diffusion", 60)
            phases = [r["phase"] for r in recs]
            self.assertEqual(sorted(set(phases), key=phases.index), ["align", "instruct", "diffusion"])
            falls(self, recs, "autoregressive")
            falls(self, recs, "diffusion")
            self.assertIn("val_diffusion", recs[-1])
            m = M.Model(os.path.join(tmp, "model"))
            ids = torch.tensor([[m.bos_id, 5, 6, m.mask_id]])
            pos, _ = M.get_rope_index(m, ids)
            self.assertTrue(bool(torch.isfinite(M.lm_forward(m, ids, pos)["logits"]).all()))
            self.assertTrue(os.path.exists(os.path.join(tmp, "loss.png")))

    def test_pure_diffusion_loss_falls_and_tuning_continues_from_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            first = os.path.join(tmp, "first")
            recs = train(first, "diffusion", 40, "--bf16")  # products in bfloat16: it learns too
            falls(self, recs, "diffusion")
            # More diffusion tuning from those weights: one phase, starting where the first run ended,
            # not at a fresh model's loss.
            # (at a lower image resolution: the model exported says so; crowded scenes only)
            more = train(os.path.join(tmp, "more"), "diffusion-tuning", 6, "--seed", "2",
                         "--init-from", os.path.join(first, "state.pt"), "--max-image-tokens", "16",
                         "--object-weights", '{"3": 1, "4": 1}')
            self.assertEqual({r["phase"] for r in more}, {"diffusion"})
            with open(os.path.join(tmp, "more", "model", "preprocessor_config.json")) as f:
                self.assertEqual(json.load(f)["max_pixels"], 16 * 28 * 28)
            start, end = recs[0]["loss"], sum(r["loss"] for r in recs[-6:]) / 6
            self.assertLess(sum(r["loss"] for r in more) / len(more), end + 0.25 * (start - end))
            # Or from the exported folder (bf16 weights, so also near where the first run ended); a
            # folder whose config differs from the run's is refused, naming what differs.
            folder = train(os.path.join(tmp, "folder"), "diffusion-tuning", 4, "--seed", "2",
                           "--init-from", os.path.join(first, "model"))
            self.assertLess(sum(r["loss"] for r in folder) / len(folder), end + 0.25 * (start - end))
            other = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "train.py"),
                                    os.path.join(tmp, "other"), "--recipe", "diffusion-tuning", "--steps", "1",
                                    "--shape", json.dumps(dict(TINY, rope_theta=50.0)),
                                    "--init-from", os.path.join(first, "model")], capture_output=True, text=True)
            self.assertNotEqual(other.returncode, 0)
            self.assertIn("rope_theta", other.stderr)

    def test_resuming_without_the_optimizer_warms_up_again(self):
        # What a session commits for the next (tools/train/llada_v_shapes.sh): weights and step, no
        # optimizer moments; the fresh moments get the warmup again, then the schedule's own rate.
        import shutil
        with tempfile.TemporaryDirectory() as tmp:
            kept, fresh = os.path.join(tmp, "kept"), os.path.join(tmp, "fresh")
            train(kept, "diffusion", 6)
            shutil.copytree(kept, fresh)
            st = torch.load(os.path.join(fresh, "state.pt"))
            torch.save({"w": st["w"], "step": st["step"], "opt": None}, os.path.join(fresh, "state.pt"))
            runs = [train(d, "diffusion", 12, "--resume")[6:] for d in (kept, fresh)]
        self.assertEqual([[r["step"] for r in recs] for recs in runs], [list(range(7, 13))] * 2)
        ratio = [b["lr"] / a["lr"] for a, b in zip(*runs)]
        for got, want in zip(ratio, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]):
            self.assertAlmostEqual(got, want, places=6)

    def test_the_rate_warms_up_again_where_the_data_changes(self):
        with tempfile.TemporaryDirectory() as tmp:
            plain = train(os.path.join(tmp, "plain"), "diffusion", 10)
            rewarmed = train(os.path.join(tmp, "rewarmed"), "diffusion", 10, "--rewarm-at", "6", "--rewarm-steps", "4")
            kept = torch.load(os.path.join(tmp, "rewarmed", "state-6.pt"))
        ratio = [b["lr"] / a["lr"] for a, b in zip(plain, rewarmed)]
        for got, want in zip(ratio, [1.0] * 6 + [0.25, 0.5, 0.75, 1.0]):
            self.assertAlmostEqual(got, want, places=6)
        self.assertEqual(kept["step"], 6)

    def test_tower_stays_frozen_until_the_given_step(self):
        sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
        import checkpoint
        tokenizer = os.path.join(ROOT, "models", "dimple-shapes")
        start = checkpoint.fresh_model(tokenizer, json.dumps(TINY), 1)[2]
        for until, tower_moves in ((12, False), (6, True)):
            with tempfile.TemporaryDirectory() as tmp:
                train(tmp, "ar-then-diffusion", 12, "--freeze-vision-until", str(until), "--vision-lr-scale", "1",
                      "--first-kinds", '{"color": 1}', "--first-steps", "4")
                w = torch.load(os.path.join(tmp, "state.pt"))["w"]
            moved = [k for k in w if not torch.equal(w[k], start[k])]
            self.assertTrue(any(not k.startswith("visual.") for k in moved), "the language model trains")
            self.assertEqual(any(k.startswith("visual.") for k in moved), tower_moves, f"--freeze-vision-until {until}")

    def test_sweep_scales_every_run_to_the_budget(self):
        runs = {name: ["--steps", str(steps), "--images", "2", "--questions", "2", "--val-every", "1000",
                       "--val-batches", "1", "--shape", json.dumps(TINY)] for name, steps in (("a", 100000), ("b", 50000))}
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "plan.json"), "w") as f:
                json.dump(runs, f)
            out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train", "sweep.py"),
                                  os.path.join(tmp, "plan.json"), os.path.join(tmp, "sweep"), "--minutes", "0.2",
                                  "--probe-steps", "4"], check=True, capture_output=True, text=True).stdout
            steps = {}
            for name in runs:
                with open(os.path.join(tmp, "sweep", name, "log.jsonl")) as f:
                    steps[name] = len(f.readlines())
                self.assertTrue(os.path.exists(os.path.join(tmp, "sweep", name, "model", "model.safetensors")))
            # 12 seconds cannot hold so many steps on any machine: both are scaled by one factor, keeping 2:1
            self.assertLess(steps["a"], 100000, out)
            self.assertAlmostEqual(steps["a"] / steps["b"], 2, delta=0.1)
            self.assertIn("| a | ", out)

    def test_stop_at_means_the_next_time_the_clock_reads_it(self):
        sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
        import train as T
        day = 20000 * 86400  # a UTC midnight
        now = day + 23 * 3600 + 30 * 60  # 23:30
        self.assertEqual(T.next_occurrence("23:45", now), day + 23 * 3600 + 45 * 60)
        self.assertEqual(T.next_occurrence("00:45", now), day + 86400 + 45 * 60)  # after midnight
        self.assertEqual(T.next_occurrence("23:30:10", now), now + 10)
        self.assertEqual(T.next_occurrence("23:30", now), now + 86400)  # now is not "next"

    def test_causal_attention_sees_only_the_past(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_tiny_model.py"), tmp, "--dtype", "f32",
                            "--seed", "4"], check=True, stdout=subprocess.DEVNULL)
            m = M.Model(tmp)
            ids = torch.randint(0, m.vocab - 48, (2, 9), generator=torch.Generator().manual_seed(0))
            pos, _ = M.get_rope_index(m, ids)
            causal = M.lm_forward(m, ids, pos, causal=True)["logits"]
            for n in (1, 4, 8):  # the future changes nothing: a prefix gives the same rows
                prefix = M.lm_forward(m, ids[:, :n], pos[:, :, :n], causal=True)["logits"]
                self.assertTrue(torch.allclose(causal[:, :n], prefix, atol=1e-4, rtol=1e-4))
            one = M.lm_forward(m, ids[:, :1], pos[:, :, :1])["logits"]
            self.assertTrue(torch.allclose(causal[:, :1], one, atol=1e-4, rtol=1e-4))
            full = M.lm_forward(m, ids, pos)["logits"]
            self.assertFalse(torch.allclose(causal[:, :4], full[:, :4], atol=1e-3))


if __name__ == "__main__":
    unittest.main()
