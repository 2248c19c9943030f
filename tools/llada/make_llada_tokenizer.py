#!/usr/bin/env python3
"""Writes a LLaDA-style tokenizer for a tiny test model (LLaDA's own tokenizer.json cannot be fetched
here): a byte-level BPE (LLaMA-3's pre-tokenizer regex and decoder, GPT-2's byte alphabet) with a
few hundred merges learned from a fixed English text, and LLaDA's special tokens as added tokens at
the ids the tiny model uses (tests/goldens/llada-tiny/README.md: kept at the real distance from the
end of the vocabulary), plus a tokenizer_config.json with LLaDA's chat template. Ids between the
learned tokens and the specials name no token. Deterministic: the same files every run.

    make_llada_tokenizer.py OUT_DIR [--vocab 2048] [--merges 300]
"""
import argparse
import collections
import json
import os
import re

# LLaDA-8B-Instruct's special tokens and their ids (spec llada.md section 1), as offsets from the
# end of its 126464-row vocabulary.
REAL_VOCAB = 126464
SPECIALS = [("<|startoftext|>", 126080), ("<|endoftext|>", 126081), ("<|mdm_mask|>", 126336),
            ("<|start_header_id|>", 126346), ("<|end_header_id|>", 126347), ("<|eot_id|>", 126348)]

# LLaDA's chat template as its tokenizer_config.json states it (spec section 2): bos before the
# first message, LLaMA-3 headers, trimmed contents, the assistant header always appended.
CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}")

PRETOKENIZE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXT = """The quick brown fox jumps over the lazy dog. What is in this picture? There are three shapes:
a red circle, a blue square and a green triangle. Please describe the image in detail. The answer is
yes. How many shapes are there? Name a colour. Hello world, this is a diffusion language model that
answers by denoising a row of masks. Every step predicts all of them in one bidirectional pass."""


def byte_alphabet():
    """GPT-2's map of the 256 bytes to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, extra = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


def words(text, alphabet):
    # The pre-tokenizer's pieces, approximated with Python's re (no \p classes): words with their
    # leading space, digits, punctuation; enough to learn merges from.
    pieces = re.findall(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]+|\s+", text)
    return [tuple(alphabet[b] for b in p.encode()) for p in pieces]


def learn_merges(text, alphabet, n):
    counts = collections.Counter(words(text, alphabet))
    merges = []
    for _ in range(n):
        pairs = collections.Counter()
        for w, c in counts.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])  # ties: the smallest pair (deterministic)
        merges.append(best)
        merged = collections.Counter()
        for w, c in counts.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        counts = merged
    return merges


def write_tokenizer(out, text, vocab_size, n_merges):
    """Writes tokenizer.json + tokenizer_config.json: merges learned from `text`, LLaDA's specials at
    their real distance from the end of a `vocab_size`-row vocabulary. Returns (tokens, merges, ids)."""
    alphabet = byte_alphabet()
    vocab = {alphabet[b]: i for i, b in enumerate(sorted(alphabet))}
    merges = learn_merges(text, alphabet, n_merges)
    for x, y in merges:
        vocab.setdefault(x + y, len(vocab))
    specials = [(t, vocab_size - (REAL_VOCAB - i)) for t, i in SPECIALS]
    assert len(vocab) <= min(i for _, i in specials), "the learned tokens reach the special ids"
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for t, i in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PRETOKENIZE}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [x + " " + y for x, y in merges]},
    }
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
              "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
              "chat_template": CHAT_TEMPLATE}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    return len(vocab), len(merges), [i for _, i in specials]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=2048, help="the model's vocabulary (embedding rows)")
    ap.add_argument("--merges", type=int, default=300)
    a = ap.parse_args()
    n, m, ids = write_tokenizer(a.out, TEXT, a.vocab, a.merges)
    print(f"{a.out}: {n} tokens, {m} merges, specials at {ids}")


if __name__ == "__main__":
    main()
