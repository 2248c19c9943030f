"""Training examples of the shapes world for a LLaDA-V (the from-scratch dMLLM beside Dimple):
images through LLaDA-V's anyres preprocessing, prompts in LLaDA-V's conversation (system turn,
"<image>\\n" before the first question, LLaMA-3 headers) tokenized as the engine does, answers
ending in <|eot_id|>.

One sequence per image: several single-turn questions about it, packed. An image's ~1300 rows cost
far more than a question's ~20, so each image serves several answers: the prompt up to the image
is shared and each question with its answer is a branch after it (llada_v_objective.py gives each
branch the positions and the view it would have alone). The image stream is data.py's (same seeds,
same splits).
"""
import io
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import data  # noqa: E402
import world  # noqa: E402
from llada_v_ref import preprocess as P  # noqa: E402
from llada_v_ref.model import IMAGE_ID  # noqa: E402

MAX_QUESTIONS = 8
# The engine's LLaDA-V system turn (src/text/chat_template.cpp), LLaDA-V's conversation's.
SYSTEM = ("You are a helpful language and vision assistant. You are able to understand the visual content "
          "that the user provides, and assist the user with a variety of tasks using natural language.")
# Only the 384x384 grid: the world's images (at most 448 px a side) fit one tile at >= 86% scale,
# and each further tile would add up to 756 rows to every training sequence.
PINPOINTS = [[384, 384]]


def header(role):
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


def first_prompt(question):
    """The engine's LLaDA-V chat text for one user turn with one image (chat_template.cpp)."""
    return ("<|startoftext|>" + header("system") + SYSTEM + "<|eot_id|>" + header("user") + "<image>\n" +
            question + "<|eot_id|>" + header("assistant"))


def later_prompt(question):
    """A later turn of a conversation (its text is part of the tokenizer's corpus)."""
    return header("user") + question + "<|eot_id|>" + header("assistant")


def tokenize_with_images(tok, text, marker="<image>"):
    """LLaVA's tokenizer_image_token as the engine runs it (src/text/image_tokens.cpp): pieces split
    at the marker and joined by IMAGE_ID; when the first piece starts with bos, bos is emitted once
    and every piece loses its first id (which drops the "\\n" after the image)."""
    pieces = [tok.encode(p) for p in text.split(marker)]
    bos = tok.special["<|startoftext|>"]
    off = 1 if pieces[0] and pieces[0][0] == bos else 0
    out = [bos] if off else []
    for i, p in enumerate(pieces):
        if i:
            out.append(IMAGE_ID)
        out += p[off:]
    return out


def corpus():
    """Texts the tokenizer's merges are learned from: the conversation's fixed text, every question
    and answer word, and the long answers of many scenes."""
    rng = np.random.default_rng(12345)
    texts = [first_prompt(""), later_prompt(""), SYSTEM] + world.all_texts()
    for _ in range(400):
        scene = world.sample_scene(rng)
        texts += [world.describe(scene), world.as_json(scene)]
    return "\n".join(texts)


def pixels(raw):
    img = Image.open(io.BytesIO(raw))
    pv, size = P.preprocess(img, PINPOINTS)
    return pv, size


def image_sequence(tok, seed, split, j, questions, weights=None, objects=None):
    """Image j of a split with `questions` questions: (crops, (W, H), dict(prefix, branches, qa)).
    prefix: the single-turn prompt's ids up to the image (IMAGE_ID last), the same for every
    question; branches: dict(question=the prompt's ids after the image, answer=the answer's ids and
    <|eot_id|>) per question."""
    scene, _, raw, rng = data.scene_and_image(seed, split, j, objects)
    pv, size = pixels(raw)
    eot = tok.special["<|eot_id|>"]
    prefix, branches, qa = None, [], []
    for _ in range(questions):
        kind, q, a = world.sample_question(rng, scene, data.weighted_kind(rng, scene, weights))
        ids = tokenize_with_images(tok, first_prompt(q))
        cut = ids.index(IMAGE_ID) + 1
        assert prefix in (None, ids[:cut])
        prefix = ids[:cut]
        branches.append(dict(question=ids[cut:], answer=tok.encode(a) + [eot]))
        qa.append(dict(kind=kind, question=q, text=a))
    return pv, size, dict(prefix=prefix, branches=branches, qa=qa)


class Batches:
    """Endless batches of a split: `images_per_batch` sequences, each an image and 1..MAX_QUESTIONS
    questions (`questions_per_image` fixes the count instead when given)."""

    def __init__(self, tok, seed, split, images_per_batch, questions_per_image=None):
        self.tok, self.seed, self.split = tok, seed, split
        self.ipb, self.qpi = images_per_batch, questions_per_image

    def get(self, step, weights=None, objects=None):
        crops, counts, sizes, seqs = [], [], [], []
        for i in range(self.ipb):
            j = step * self.ipb + i
            n = self.qpi or 1 + int(np.random.default_rng([self.seed, 77, j]).integers(MAX_QUESTIONS))
            pv, size, seq = image_sequence(self.tok, self.seed, self.split, j, n, weights, objects)
            crops.append(pv)
            counts.append(len(pv))
            sizes.append(size)
            seqs.append(seq)
        return dict(pixel_values=torch.cat(crops), crops_per_image=counts, sizes=sizes, rows=seqs)
