"""LLaDA's masked-diffusion objective (its SFT: arXiv 2502.09992 section 2.3, GUIDELINES.md) over a
batch of llada_v_data.Batches: per sequence t ~ U(eps, 1); every answer token (each answer, its
<|eot_id|>, and the <|endoftext|> pads after the last answer) is replaced by <|mdm_mask|> with
probability t; the loss is the cross-entropy of the masked tokens divided by t, summed, divided by
the sequence's answer-token count, averaged over sequences. Unshifted: logits row i scores the
token at position i. Full attention; pads between sequences of a batch are masked as keys."""
import torch
import torch.nn.functional as F

from llada_v_ref import model as M

EPS = 1e-3
SHORT_TAIL = 8
ROW_BUCKET = 256
MAX_ANSWER = 128   # LLaDA-V's generate_with_embeds default gen_length, the engine's for the family


def trailing_pads(n_answer, gen):
    """Pads after the last answer: half the sequences up to the decoding length (MAX_ANSWER
    answer positions, as at inference), half at most SHORT_TAIL (cheaper; most is learned there)."""
    room = max(0, MAX_ANSWER - n_answer)
    if float(torch.rand((), generator=gen)) < 0.5:
        room = min(room, SHORT_TAIL)
    return int(torch.randint(0, room + 1, (1,), generator=gen))


def noisy_sequence(m, seq, gen):
    """(ids with masks, answer positions, masked positions, t) of one sequence."""
    ids = list(seq["ids"])
    last = seq["answer_spans"][-1]
    ids += [m.pad_id] * trailing_pads(last[1] - last[0], gen)
    answer = [i for a, b in seq["answer_spans"] for i in range(a, b)] + list(range(len(seq["ids"]), len(ids)))
    t = EPS + (1 - EPS) * float(torch.rand((), generator=gen))
    hit = torch.rand(len(answer), generator=gen) < t
    if not bool(hit.any()):
        hit[int(torch.randint(0, len(answer), (1,), generator=gen))] = True
    masked = [p for p, h in zip(answer, hit.tolist()) if h]
    targets = [ids[p] for p in masked]
    for p in masked:
        ids[p] = m.mask_id
    return ids, len(answer), masked, targets, t


def loss(m, batch, objective, gen):
    """The objective's mean loss over the batch's sequences, and the number of masked tokens."""
    if objective != "diffusion":
        raise ValueError(f"a LLaDA-V trains with the diffusion objective only, not {objective}")
    w, s = m.w, m.sizes
    images = M.images_rows(w, s, batch["pixel_values"], batch["crops_per_image"], batch["sizes"])
    embeds, rows, cols, targets, weights = [], [], [], [], []
    for b, seq in enumerate(batch["rows"]):
        ids, n_answer, masked, tgt, t = noisy_sequence(m, seq, gen)
        embeds.append(M.splice(w, ids, [images[b]]))
        rows += [b] * len(masked)
        cols += masked
        targets += tgt
        weights += [1.0 / (t * n_answer)] * len(masked)
    # Batch lengths rounded up to a multiple of ROW_BUCKET: few distinct tensor sizes, so the blocks
    # that malloc_env keeps are reused instead of the heap growing with every new length (a run
    # without this grew to 24 GB and was killed once long answers changed the lengths).
    T = -(-max(len(e) for e in embeds) // ROW_BUCKET) * ROW_BUCKET
    key_mask = torch.zeros(len(embeds), T, dtype=torch.bool)
    for b, e in enumerate(embeds):
        key_mask[b, :len(e)] = True
    x = torch.stack([F.pad(e, (0, 0, 0, T - len(e))) for e in embeds])
    logits = M.lm_forward(w, s, x, key_mask, output_rows=(torch.tensor(rows), torch.tensor(cols)))
    ce = F.cross_entropy(logits, torch.tensor(targets), reduction="none")
    return (ce * torch.tensor(weights)).sum() / len(embeds), len(targets)
