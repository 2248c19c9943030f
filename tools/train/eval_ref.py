#!/usr/bin/python3
"""Evaluates a model on an eval.jsonl (tools/train/make_eval_set.py) with the PyTorch reference
decoder (tools/dimple_ref/generate.py): the same prompt, preprocessing and decoding options as
`dimple run`/`dimple eval`, for parity checks against the engine and as a fallback measurement.

  /usr/bin/python3 tools/train/eval_ref.py --model models/dimple-shapes --data DIR/eval.jsonl \
      [--predictions OUT.jsonl] [--limit N] [--threshold 0.95] [--temperature 0.2] [--top-p 0.95]
      [--top-k 50] [--steps 64] [--max-new-tokens 64] [--alg origin] [--no-cache]
      [--template TEXT] [--seed 0]

Prints accuracy (exact match after trimming) overall and per kind, mean forward passes and forward
passes per answer token; writes one {"answer", "steps", "answer_ids", "region"} object per line (region: the whole answer
region, pad after the first eos, like `dimple run --json`'s answer_ids).
"""
import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict

import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import bpe  # noqa: E402
import data  # noqa: E402
from dimple_ref import generate as G  # noqa: E402
from dimple_ref import model as M  # noqa: E402
from dimple_ref import preprocess as P  # noqa: E402


def template_prior(tok, template):
    """{answer offset: id} of a structure-prior template (`<mask>`, `<mask:N>` free; text fixed)."""
    prior, off = {}, 0
    for piece in re.split(r"(<mask(?::\d+)?>)", template):
        if not piece:
            continue
        m = re.fullmatch(r"<mask(?::(\d+))?>", piece)
        if m:
            off += int(m.group(1) or 1)
            continue
        for i in tok.encode(piece.replace("\\<", "<")):
            prior[off] = i
            off += 1
    return prior


def answer_of(m, tok, seq, prompt_len):
    ans = G.answer_tokens(m, seq, prompt_len)
    ans = ans[:ans.index(m.eos_id)] if m.eos_id in ans else ans
    ids = [i for i in ans if i not in (m.pad_id, m.mask_id)]
    return ids, tok.decode(ids).strip()


def run_item(m, tok, pre, item, folder, a, prior):
    img = Image.open(os.path.join(folder, item["image"]))
    pv, grid, _ = P.preprocess(img, **pre)
    n_img = int(grid.prod()) // 4
    ids = tok.encode(data.chat_prompt(item["question"], n_img))
    gen = torch.Generator().manual_seed(a.seed)
    out = G.diffusion_generate(
        m, torch.tensor([ids]), torch.from_numpy(pv), torch.from_numpy(grid[None]), a.max_new_tokens,
        prior=prior, generator=gen, debug=False, steps=a.steps, alg=a.alg,
        temperature=a.temperature, top_p=None if a.top_p >= 1 else a.top_p,
        top_k=None if a.top_k == 0 else a.top_k, alg_p_threshold=a.threshold or None,
        use_cache=not a.no_cache, decoding_pipeline="dim")
    answer_ids, text = answer_of(m, tok, out["sequence"], len(ids))
    region = G.answer_tokens(m, out["sequence"], len(ids))
    return {"answer": text, "steps": out["n_steps_run"], "answer_ids": answer_ids, "region": region}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--predictions")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.95)
    ap.add_argument("--temperature", type=float, default=0.2)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--alg", default="origin", choices=G.ALGS)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--template", default=None)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = M.Model(a.model)
    tok = bpe.Tokenizer(a.model)
    pre = {k: v for k, v in P.load_preprocessor_config(os.path.join(a.model, "preprocessor_config.json")).items()}
    prior = template_prior(tok, a.template) if a.template else None
    folder = os.path.dirname(os.path.abspath(a.data))
    with open(a.data) as f:
        items = [json.loads(line) for line in f if line.strip()]
    if a.limit:
        items = items[:a.limit]
    right, total, steps, tokens = defaultdict(int), defaultdict(int), 0, 0
    preds = []
    t0 = time.time()
    for i, item in enumerate(items):
        p = run_item(m, tok, pre, item, folder, a, prior)
        preds.append(p)
        kind = item.get("kind", "all")
        total[kind] += 1
        right[kind] += p["answer"] == item["answer"].strip()
        steps += p["steps"]
        tokens += len(p["answer_ids"]) + 1  # the eos is decoded too
        print(f"\r{i + 1}/{len(items)}  accuracy {sum(right.values()) / (i + 1):.3f}", end="", flush=True)
    print()
    for k in sorted(total):
        print(f"{k:12s} {right[k] / total[k]:.3f}  ({right[k]}/{total[k]})")
    n = len(items)
    print(f"accuracy {sum(right.values()) / n:.4f}; mean forward passes {steps / n:.2f}; "
          f"forward passes per answer token {steps / tokens:.3f}; {time.time() - t0:.0f} s")
    if a.predictions:
        with open(a.predictions, "w") as f:
            for p in preds:
                f.write(json.dumps(p) + "\n")


if __name__ == "__main__":
    main()
