#!/usr/bin/python3
"""Temperature-0 answers of a trained shapes LLaDA-V (models/llada-v-shapes) from the engine
(`dimple eval`, no prefilling: exact decoding) against this reference (preprocessing, tower, image
rows, LM and generate_with_embeds in PyTorch, float32), item by item on the first N items of an
evaluation set; prints how many agree and every answer that differs.

  /usr/bin/python3 tools/llada_v_ref/check_engine.py --cli build/dimple --model models/llada-v-shapes \
      --data EVAL/eval.jsonl [--items 20]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "train"))
import bpe  # noqa: E402
import llada_v_data as D  # noqa: E402
import malloc_env  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402
from llada_v_ref import generate as G  # noqa: E402
from llada_v_ref import model as M  # noqa: E402
from llada_v_ref import preprocess as P  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--items", type=int, default=20)
    a = ap.parse_args()
    malloc_env.keep_freed_memory()
    torch.set_num_threads(1)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    tower = json.load(open(os.path.join(a.model, cfg["mm_vision_tower"], "config.json")))
    w = {k: torch.from_numpy(np.ascontiguousarray(S.to_float(dt, x))) for k, (dt, x) in S.read_folder(a.model).items()}
    s = M.Sizes(cfg, tower)
    tok = bpe.Tokenizer(a.model)
    sp = tok.special
    banned = [sp[t] for t in ("<|endoftext|>", "<|startoftext|>", "<|start_header_id|>", "<|end_header_id|>")]
    here = os.path.dirname(os.path.abspath(a.data))
    items = [json.loads(line) for line in open(a.data)][:a.items]
    with tempfile.TemporaryDirectory() as tmp:
        sub, pred = os.path.join(tmp, "items.jsonl"), os.path.join(tmp, "pred.jsonl")
        with open(sub, "w") as f:
            for it in items:
                f.write(json.dumps(dict(it, image=os.path.join(here, it["image"]))) + "\n")
        subprocess.run([a.cli, "eval", "--model", a.model, "--data", sub, "--predictions", pred, "-n", "64", "-s", "64",
                        "--no-cache", "--compute", "f32", "--threads", "1"], check=True, capture_output=True)
        engine = [json.loads(line)["answer"] for line in open(pred)]
    same = 0
    for it, got in zip(items, engine):
        pv, size = P.preprocess(Image.open(os.path.join(here, it["image"])), cfg["image_grid_pinpoints"])
        with torch.no_grad():
            rows = M.images_rows(w, s, pv, [len(pv)], [size])
        ids = D.tokenize_with_images(tok, D.first_prompt(it["question"]))
        answer = G.generate(w, s, ids, rows, cfg["mask_token_id"], banned, [sp["<|eot_id|>"]])
        text = tok.decode([t for t in answer if t not in sp.values()]).strip()
        same += text == got
        if text != got:
            print(f"differs: {it['question']!r}: engine {got!r}, reference {text!r}")
    print(f"{same} of {len(items)} answers identical (engine f32 without prefilling against the reference)")
    sys.exit(0 if same == len(items) else 1)


if __name__ == "__main__":
    main()
