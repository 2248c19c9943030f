#!/usr/bin/python3
"""Goldens of Fast-dLLM's LLaDA decoding (NVlabs/Fast-dLLM llada/generate.py, run unchanged): its
dual cache (`generate_with_dual_cache`: every block begins with a pass over the whole sequence that
fills the keys/values, then each step feeds only the block's rows) and its threshold commits
(parallel decoding, with and without the dual cache), on the tiny LLaDA of tests/goldens/llada-tiny,
CPU float32, one thread. Writes fast_dllm.json beside generation.json.

    bash tools/llada/get_originals.sh /tmp/llada-orig
    /usr/bin/python3 tools/llada/make_fast_dllm_goldens.py tests/goldens/llada-tiny

Each step's decisions are observed by wrapping the original's get_transfer_index (called unchanged):
the gap between the two most probable tokens at every candidate (the argmax), and the gap that
decides which candidates are committed (between the k-th and (k+1)-th confidence for fixed counts;
each confidence's distance to the threshold, and the top two confidences, with a threshold). A run
is usable when every such gap is >= 1e-5 (the rule of generation.json).
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import originals  # noqa: E402
from make_llada_goldens import make_prompts  # noqa: E402

MARGIN = 1e-5
# (function, gen_length, block_length, steps, threshold)
LAYOUTS = [
    ("generate_with_dual_cache", 16, 8, 8, None),
    ("generate_with_dual_cache", 16, 4, 8, None),
    ("generate_with_dual_cache", 24, 8, 12, None),
    ("generate_with_dual_cache", 32, 8, 16, None),
    ("generate_with_dual_cache", 16, 16, 8, None),
    ("generate_with_dual_cache", 16, 8, 8, 0.004),
    ("generate_with_dual_cache", 32, 8, 16, 0.002),
    ("generate", 16, 8, 8, 0.004),
    ("generate", 32, 8, 16, 0.002),
]


def observe(fast, margins):
    """Wraps fast.get_transfer_index: records the step's decision margins, returns its result."""
    original = fast.get_transfer_index

    def wrapped(logits, temperature, remasking, mask_index, x, num_transfer_tokens, threshold=None):
        p = F.softmax(logits.to(torch.float64), dim=-1)[mask_index]  # [candidates, V]
        if p.shape[0] > 0:
            top = torch.topk(p, 2, dim=-1).values
            margins.append(float((top[:, 0] - top[:, 1]).min()))
            conf = torch.sort(top[:, 0], descending=True).values
            if threshold is not None:
                margins.append(float((conf - threshold).abs().min()))
                if conf.numel() > 1:
                    margins.append(float(conf[0] - conf[1]))
            else:
                k = int(num_transfer_tokens[0])
                if 0 < k < conf.numel():
                    margins.append(float(conf[k - 1] - conf[k]))
        return original(logits, temperature, remasking, mask_index, x, num_transfer_tokens, threshold)

    fast.get_transfer_index = wrapped
    return original


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("goldens", help="tests/goldens/llada-tiny (its model/ and special ids)")
    ap.add_argument("--orig", default="/tmp/llada-orig")
    a = ap.parse_args()
    modeling, LM, _ = originals.load_text(a.orig)
    fast = originals.load_fast_dllm_generate(a.orig)
    torch.set_num_threads(1)
    mdir = os.path.join(a.goldens, "model")
    with open(os.path.join(mdir, "special_ids.json")) as f:
        sp = json.load(f)["ids"]
    mask_id = sp["mask_token_id"]
    model = LM.from_pretrained(mdir, torch_dtype=torch.float32).eval()
    P = make_prompts(sp)
    runs = []
    for prompt_name in ("p1", "p2", "p3"):
        prompt = torch.tensor([P[prompt_name]])
        for fn, g, bl, steps, thr in LAYOUTS:
            margins = []
            original = observe(fast, margins)
            name = "%s_%s_g%d_b%d_s%d%s" % ("dual" if "dual" in fn else "plain", prompt_name, g, bl, steps,
                                              "" if thr is None else "_t%g" % thr)
            try:
                x, nfe = getattr(fast, fn)(model, prompt, steps=steps, gen_length=g, block_length=bl,
                                           temperature=0., remasking="low_confidence", mask_id=mask_id,
                                           threshold=thr)
            except IndexError as e:
                # The dual cache's loop runs until its block has no mask left: when a step commits the
                # mask id itself (the tiny model's argmax can be it), it indexes past its step counts.
                print("%-32s the original fails: IndexError: %s" % (name, e))
                continue
            finally:
                fast.get_transfer_index = original
            answer = x[0, prompt.shape[1]:].tolist()
            min_margin = min(margins) if margins else math.inf
            runs.append({"name": name, "function": fn, "prompt_ids": P[prompt_name],
                         "options": {"gen_length": g, "block_length": bl, "steps": steps, "threshold": thr,
                                     "temperature": 0.0, "remasking": "low_confidence"},
                         "answer": answer, "nfe": nfe, "min_margin": min_margin,
                         "masks_left": answer.count(mask_id), "usable": min_margin >= MARGIN})
            print("%-32s nfe %3d  min margin %.2e  %s" % (name, nfe, min_margin,
                                                          "usable" if runs[-1]["usable"] else "NOT usable"))
    out = {"what": "Fast-dLLM llada/generate.py on the tiny LLaDA, CPU float32",
           "originals": originals.check(a.orig, repos=("NVlabs/Fast-dLLM",)),
           "mask_id": mask_id, "margin_threshold": MARGIN,
           "usable_rule": "every argmax and commit decision's margin >= 1e-5", "runs": runs}
    with open(os.path.join(a.goldens, "fast_dllm.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote %s: %d runs, %d usable" % (os.path.join(a.goldens, "fast_dllm.json"), len(runs),
                                            sum(r["usable"] for r in runs)))


if __name__ == "__main__":
    main()
