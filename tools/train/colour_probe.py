#!/usr/bin/python3
"""Does a model read colour from the image? Accuracy of the colour words of answers, predicted with
every other answer token given, once with the real image and once with a blank one; equal
accuracies mean the colour words are guesses from the text alone.

  /usr/bin/python3 tools/train/colour_probe.py STATE.pt [--images N] [--causal]

STATE.pt: a state.pt of train.py. Default: the diffusion view (full attention, the colour tokens
masked); --causal: the autoregressive view (causal attention, teacher forcing), for checkpoints
still in the instruction phase. Validation images, 6 questions each; per kind that has colour words.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import checkpoint  # noqa: E402
import data  # noqa: E402
import objectives  # noqa: E402
import world  # noqa: E402
from dimple_ref import model as M  # noqa: E402


def colour_hits(m, batch, colour_ids, causal):
    """{kind: (right, total)} over the colour tokens of the batch's answers."""
    seqs, targets = [], []
    for r in batch["rows"]:
        shown = list(r["answer"]) if causal else [m.mask_id if t in colour_ids else t for t in r["answer"]]
        seqs.append(r["prompt"] + shown)
        targets.append([objectives.IGNORE] * len(r["prompt"])
                       + [t if t in colour_ids else objectives.IGNORE for t in r["answer"]])
    L = max(map(len, seqs))
    ids = torch.full((len(seqs), L), m.pad_id)
    attn = torch.zeros(len(seqs), L, dtype=torch.long)
    tgt = torch.full((len(seqs), L), objectives.IGNORE)
    for i, (s, t) in enumerate(zip(seqs, targets)):
        ids[i, :len(s)], attn[i, :len(s)], tgt[i, :len(t)] = torch.tensor(s), 1, torch.tensor(t)
    grids = torch.as_tensor(batch["grids"][[r["image"] for r in batch["rows"]]])
    with torch.no_grad():
        pos, _ = M.get_rope_index(m, ids, grids, attn)
        logits = M.lm_forward(m, ids, pos, attn, objectives.image_rows(m, batch), causal=causal)["logits"]
    pred, tgt = logits[:, :-1].argmax(-1), tgt[:, 1:]   # Dimple's shifted prediction
    out = {}
    for i, r in enumerate(batch["rows"]):
        sel = tgt[i] != objectives.IGNORE
        if sel.any():
            right, total = out.get(r["kind"], (0, 0))
            out[r["kind"]] = (right + int((pred[i][sel] == tgt[i][sel]).sum()), total + int(sel.sum()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "dimple-shapes"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    tok, _, w, m = checkpoint.fresh_model(a.tokenizer, None, 1)
    with torch.no_grad():
        for k, v in torch.load(a.state)["w"].items():
            w[k].copy_(v)
    colour_ids = {tok.encode(p + c)[0] for c in world.COLORS for p in ("", " ")}
    totals = {}
    for j in range(a.images):
        pv, grid, rows = data.image_examples(tok, 1, "val", j, 6)
        batch = dict(pixel_values=pv, grids=np.stack([grid]), rows=[dict(r, image=0) for r in rows])
        for view, b in (("image", batch), ("blank", dict(batch, pixel_values=torch.zeros_like(pv)))):
            for kind, (right, total) in colour_hits(m, b, colour_ids, a.causal).items():
                r0, t0 = totals.get((kind, view), (0, 0))
                totals[(kind, view)] = (r0 + right, t0 + total)
    print(f"{a.state}: colour words right ({'causal' if a.causal else 'diffusion'} view)")
    for kind in world.KINDS:
        if (kind, "image") in totals:
            (ri, n), (rb, _) = totals[(kind, "image")], totals[(kind, "blank")]
            print(f"  {kind:10s} with the image {100 * ri / n:5.1f}%   blank image {100 * rb / n:5.1f}%   ({n} words)")


if __name__ == "__main__":
    main()
