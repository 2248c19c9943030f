"""Dimple's two training objectives over a batch of data.Batches (spec section 9).

autoregressive: causal attention, next-token cross-entropy on the answer tokens (eos included).
diffusion: full attention; per row t ~ U(eps, 1); the answer region (answer, eos, then a random
number of pads up to data.MAX_ANSWER) has each token replaced by <|mask|> with probability t;
cross-entropy on the masked positions only, averaged. Both read the prediction for position i from
logits row i-1 (Dimple's shifted prediction).
"""
import contextlib

import torch
import torch.nn.functional as F

from dimple_ref import model as M

import data

EPS = 1e-3
IGNORE = -100
SHORT_TAIL = 8


def _answer_region(row, objective, gen, pad_id, pads=True):
    ans = row["answer"]
    if objective == "autoregressive" or not pads:
        return list(ans)
    # Half the rows pad to anywhere up to the decoding length (the model must see long all-mask
    # tails, as at inference), half only up to SHORT_TAIL (cheaper; most of what is learned there).
    room = data.MAX_ANSWER - len(ans)
    if float(torch.rand((), generator=gen)) < 0.5:
        room = min(room, SHORT_TAIL)
    n_pad = int(torch.randint(0, room + 1, (1,), generator=gen))
    return list(ans) + [pad_id] * n_pad


def assemble(m, batch, objective, gen):
    """ids, attention mask, targets (IGNORE where no loss), per-row grids. Rows right-padded."""
    pad, mask_id = m.pad_id, m.mask_id
    seqs, tgts = [], []
    for row in batch["rows"]:
        region = _answer_region(row, objective, gen, pad, batch.get("trailing_pads", True))
        prompt = row["prompt"]
        if objective == "autoregressive":
            seqs.append(prompt + region)
            tgts.append([IGNORE] * len(prompt) + region)
            continue
        t = EPS + (1 - EPS) * float(torch.rand((), generator=gen))
        masked = torch.rand(len(region), generator=gen) < t
        if not bool(masked.any()):
            masked[int(torch.randint(0, len(region), (1,), generator=gen))] = True
        noisy = [mask_id if k else tok for tok, k in zip(region, masked.tolist())]
        seqs.append(prompt + noisy)
        tgts.append([IGNORE] * len(prompt) + [tok if k else IGNORE for tok, k in zip(region, masked.tolist())])
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad, dtype=torch.long)
    attn = torch.zeros(len(seqs), L, dtype=torch.long)
    targets = torch.full((len(seqs), L), IGNORE, dtype=torch.long)
    for i, (s, t) in enumerate(zip(seqs, tgts)):
        ids[i, :len(s)] = torch.tensor(s)
        attn[i, :len(s)] = 1
        targets[i, :len(t)] = torch.tensor(t)
    grids = torch.as_tensor(batch["grids"][[r["image"] for r in batch["rows"]]])
    return ids, attn, targets, grids


def image_rows(m, batch):
    """Projected vision rows for every batch row, in row order (each image encoded once)."""
    grids = torch.as_tensor(batch["grids"])
    projected = M.vision_forward(m, batch["pixel_values"], grids)["projected"]
    sizes = (grids.prod(-1) // (m.merge * m.merge)).tolist()
    per_image = torch.split(projected, sizes)
    return torch.cat([per_image[r["image"]] for r in batch["rows"]])


def on_host():
    """Batch assembly and position ids stay on the CPU (many tiny tensors, the CPU mask generator)
    when train.py --device has made a GPU torch's default device (torch >= 2)."""
    return torch.device("cpu") if hasattr(torch, "set_default_device") else contextlib.nullcontext()


def loss(m, batch, objective, gen):
    """Mean cross-entropy of the objective on the batch, and the number of tokens it averages."""
    with on_host():
        ids, attn, targets, grids = assemble(m, batch, objective, gen)
        pos, _ = M.get_rope_index(m, ids, grids, attn)
    device = m.w["lm_head.weight"].device
    ids, attn, targets, pos = (t.to(device) for t in (ids, attn, targets, pos))
    out = M.lm_forward(m, ids, pos, attn, image_rows(m, batch), causal=objective == "autoregressive")
    logits = out["logits"][:, :-1]
    tgt = targets[:, 1:]
    n = int((tgt != IGNORE).sum())
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=IGNORE), n
