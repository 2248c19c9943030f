"""Training examples of the shapes world: rendered, encoded (PNG/JPEG), decoded and preprocessed
exactly as the engine will see them, with the chat-template prompt and the answer as token ids.

Splits are disjoint seed streams: image j of split s under seed S is drawn from
numpy.random.default_rng([S, s, j]) (train 0, validation 1, held-out evaluation 2, the shipped examples 3).
"""
import io
import multiprocessing
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import render  # noqa: E402
import world  # noqa: E402
from dimple_ref import preprocess as P  # noqa: E402

SPLITS = {"train": 0, "val": 1, "eval": 2, "examples": 3}
# Images are resized to at most 36 merged vision tokens (28x28 pixels each): the smallest object
# (1/8 of the shorter side) still spans about a 14-pixel patch after resizing.
MIN_PIXELS, MAX_PIXELS = 3136, 36 * 28 * 28
MAX_ANSWER = 64     # answer region in diffusion training = dimple run's default --max-new-tokens
SYSTEM = "You are a helpful assistant."
# Training draws these kinds more often: their answers are long and hold most of the tokens to learn.
KIND_WEIGHTS = {k: 1.0 for k in world.KINDS} | {"describe": 2.0, "json": 2.0, "leftmost": 1.5}
# Training scenes' object counts ({n: weight}; None: uniform as in the world). Validation and
# evaluation always follow the world.
TRAIN_COUNT_WEIGHTS = None


def chat_prompt(question, n_image_tokens):
    """The Qwen2.5-VL chat template with the default system turn, one image before the question,
    and the generation prompt; <|image_pad|> already expanded."""
    return ("<|im_start|>system\n" + SYSTEM + "<|im_end|>\n<|im_start|>user\n<|vision_start|>"
            + "<|image_pad|>" * n_image_tokens + "<|vision_end|>" + question
            + "<|im_end|>\n<|im_start|>assistant\n")


def scene_and_image(seed, split, j, counts=None):
    """(scene, file extension, encoded bytes, rng) of image j of a split; training scenes' object
    counts drawn by `counts` ({n: weight}) when given, else by TRAIN_COUNT_WEIGHTS."""
    rng = np.random.default_rng([seed, SPLITS[split], j])
    scene = world.sample_scene(rng, (counts or TRAIN_COUNT_WEIGHTS) if split == "train" else None)
    ext, data = render.random_image(rng, scene)
    return scene, ext, data, rng


def pixels(data):
    """Pixel rows and grid of encoded image bytes (the engine's preprocessing)."""
    img = Image.open(io.BytesIO(data))
    pv, grid, _ = P.preprocess(img, min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    return torch.from_numpy(pv), grid


def weighted_kind(rng, scene, weights=None):
    """A kind the scene admits, drawn by `weights` ({kind: weight}, missing kinds weigh 0), or by
    KIND_WEIGHTS when `weights` is None or gives every admitted kind 0."""
    qs = world.all_questions(scene)
    kinds = sorted({k for k, _, _ in qs}, key=world.KINDS.index)
    p = np.array([(weights or {}).get(k, 0.0) for k in kinds])
    if p.sum() == 0:
        p = np.array([KIND_WEIGHTS[k] for k in kinds])
    return kinds[int(rng.choice(len(kinds), p=p / p.sum()))]


def image_examples(tok, seed, split, j, n_questions, weights=None, counts=None):
    """One image and n_questions (kind, question, answer) about it (kinds drawn by weighted_kind), tokenized:
    (pixel rows, grid, [dict(prompt, answer, kind, question, text)])."""
    scene, _, data, rng = scene_and_image(seed, split, j, counts)
    pv, grid = pixels(data)
    n_img = int(grid[0] * grid[1] * grid[2]) // 4
    eos = tok.special["<|im_end|>"]
    rows = []
    for _ in range(n_questions):
        kind, q, a = world.sample_question(rng, scene, weighted_kind(rng, scene, weights))
        rows.append(dict(prompt=tok.encode(chat_prompt(q, n_img)), answer=tok.encode(a) + [eos],
                         kind=kind, question=q, text=a))
    return pv, grid, rows


class Batches:
    """Endless batches of a split: images_per_batch images x questions_per_image rows."""

    def __init__(self, tok, seed, split, images_per_batch, questions_per_image):
        self.tok, self.seed, self.split = tok, seed, split
        self.ipb, self.qpi = images_per_batch, questions_per_image

    def get(self, step, weights=None, counts=None):
        pvs, grids, rows = [], [], []
        for i in range(self.ipb):
            pv, grid, rs = image_examples(self.tok, self.seed, self.split, step * self.ipb + i, self.qpi,
                                          weights, counts)
            pvs.append(pv)
            grids.append(grid)
            rows += [dict(r, image=i) for r in rs]
        return dict(pixel_values=torch.cat(pvs), grids=np.stack(grids), rows=rows)


_worker_batches = None


def _init_worker(batches):
    global _worker_batches
    _worker_batches = batches
    torch.set_num_threads(1)


def _batch_job(step, mix):
    b = _worker_batches.get(step, *mix)
    return dict(b, pixel_values=b["pixel_values"].numpy())


class Prefetch:
    """Batches.get for the coming steps, computed `workers` processes ahead, so that rendering and
    preprocessing (about 4 ms an image) do not leave a GPU waiting. A batch is a function of its
    split, seed, step and mix alone (mix_of(step): kind weights and object counts, each None for the
    defaults): a run sees the same data with or without workers."""

    def __init__(self, batches, workers, mix_of):
        self.batches, self.mix_of = batches, mix_of
        self.depth = 2 * workers
        self.pending = {}
        self.pool = None
        if workers:  # forked before the trainer touches a GPU
            self.pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (batches,))

    def get(self, step):
        if self.pool is None:
            return self.batches.get(step, *self.mix_of(step))
        for s in range(step, step + self.depth):
            if s not in self.pending:
                self.pending[s] = self.pool.apply_async(_batch_job, (s, self.mix_of(s)))
        b = self.pending.pop(step).get()
        return dict(b, pixel_values=torch.from_numpy(b["pixel_values"]))
