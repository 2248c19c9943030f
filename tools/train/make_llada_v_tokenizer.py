#!/usr/bin/python3
"""Writes the toy LLaDA-V's tokenizer (tokenizer.json + tokenizer_config.json): LLaDA's kind of
byte-level BPE (LLaMA 3's pre-tokenizer, GPT-2's byte alphabet) with merges learned from the
shapes world's texts (llada_v_data.corpus: the conversation's fixed text, every question and the
long answers), LLaDA's special tokens at their real distance from the end of a 1024-row
vocabulary, LLaDA's chat template. LLaDA's own 126k-token tokenizer cannot be fetched here, and a
subset of it (as dimple-shapes keeps of Qwen2's) would need its merges. Deterministic.

  /usr/bin/python3 tools/train/make_llada_v_tokenizer.py OUT_DIR
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "llada"))
import llada_v_data  # noqa: E402
import make_llada_tokenizer  # noqa: E402

VOCAB, MERGES = 1024, 300

if __name__ == "__main__":
    n, m, ids = make_llada_tokenizer.write_tokenizer(sys.argv[1], llada_v_data.corpus(), VOCAB, MERGES)
    print(f"{sys.argv[1]}: {n} tokens, {m} merges, specials at {ids}")
