"""LLaDA's masked-diffusion objective (its SFT: arXiv 2502.09992 section 2.3, GUIDELINES.md) over a
batch of llada_v_data.Batches: per sequence t ~ U(eps, 1); every answer token (each answer, its
<|eot_id|>, and the <|endoftext|> pads after the last answer) is replaced by <|mdm_mask|> with
probability t; the loss is the cross-entropy of the masked tokens divided by t, summed, divided by
the sequence's answer-token count, averaged over sequences. Unshifted: logits row i scores the
token at row i (rows: the sequence after each image marker became the image's rows).
Attention is LLaDA-V's conversation mask (its `use_conversation_mask`, llava_arch.py
generate_conversation_ids): a row sees the rows of its own turn and of earlier ones, never a later
turn, so an answer cannot be read off a later question ("What shape is the blue one?") instead of
the image; the system turn, the image and the first question form turn 0; trailing pads join the
last turn; pads between sequences of a batch are seen by no real row."""
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
    """(ids with masks, answer positions, masked positions, targets, t, turn of each position)."""
    ids = list(seq["ids"])
    spans = seq["answer_spans"]
    last = spans[-1]
    ids += [m.pad_id] * trailing_pads(last[1] - last[0], gen)
    answer = [i for a, b in spans for i in range(a, b)] + list(range(len(seq["ids"]), len(ids)))
    turn = [0] * len(ids)
    for k in range(1, len(spans)):
        turn[spans[k - 1][1]:] = [k] * (len(ids) - spans[k - 1][1])
    t = EPS + (1 - EPS) * float(torch.rand((), generator=gen))
    hit = torch.rand(len(answer), generator=gen) < t
    if not bool(hit.any()):
        hit[int(torch.randint(0, len(answer), (1,), generator=gen))] = True
    masked = [p for p, h in zip(answer, hit.tolist()) if h]
    targets = [ids[p] for p in masked]
    for p in masked:
        ids[p] = m.mask_id
    return ids, len(answer), masked, targets, t, turn


def first_rows(ids, image_rows, image_id):
    """Row of each id's first row once every `image_id` has become its image's rows."""
    out, r, k = [], 0, 0
    for t in ids:
        out.append(r)
        if t == image_id:
            r += len(image_rows[k])
            k += 1
        else:
            r += 1
    return out


def loss(m, batch, objective, gen):
    """The objective's mean loss over the batch's sequences, and the number of masked tokens."""
    if objective != "diffusion":
        raise ValueError(f"a LLaDA-V trains with the diffusion objective only, not {objective}")
    w, s = m.w, m.sizes
    images = M.images_rows(w, s, batch["pixel_values"], batch["crops_per_image"], batch["sizes"])
    embeds, turns, rows, cols, targets, weights = [], [], [], [], [], []
    for b, seq in enumerate(batch["rows"]):
        ids, n_answer, masked, tgt, t, turn = noisy_sequence(m, seq, gen)
        embeds.append(M.splice(w, ids, [images[b]]))
        at = first_rows(ids, [images[b]], M.IMAGE_ID)
        turns.append(torch.tensor([turn[p] for p in range(len(ids))]).repeat_interleave(
            torch.tensor([len(images[b]) if x == M.IMAGE_ID else 1 for x in ids])))
        rows += [b] * len(masked)
        cols += [at[p] for p in masked]
        targets += tgt
        weights += [1.0 / (t * n_answer)] * len(masked)
    # Batch lengths rounded up to a multiple of ROW_BUCKET: few distinct tensor sizes, so the blocks
    # that malloc_env keeps are reused instead of the heap growing with every new length (a run
    # without this grew to 24 GB and was killed once long answers changed the lengths).
    T = -(-max(len(e) for e in embeds) // ROW_BUCKET) * ROW_BUCKET
    # Padding rows get a turn after every real one: no real row sees them, and they see every row
    # (their outputs are never read; a row with nothing to see would make NaNs).
    turn = torch.full((len(embeds), T), 1 << 30)
    for b, tr in enumerate(turns):
        turn[b, :len(tr)] = tr
    allowed = turn[:, None, :] <= turn[:, :, None]
    x = torch.stack([F.pad(e, (0, 0, 0, T - len(e))) for e in embeds])
    logits = M.lm_forward(w, s, x, allowed, output_rows=(torch.tensor(rows), torch.tensor(cols)))
    ce = F.cross_entropy(logits, torch.tensor(targets), reduction="none")
    return (ce * torch.tensor(weights)).sum() / len(embeds), len(targets)
