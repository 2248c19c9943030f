"""LLaDA's masked-diffusion objective (its SFT: arXiv 2502.09992 section 2.3, GUIDELINES.md) over a
batch of llada_v_data.Batches, with the masked tokens' cross-entropy averaged (as dimple-shapes'
objectives.py does) instead of weighted by 1/t. Every question of a picture is one sample: t ~
U(eps, 1); every answer token (the answer, its <|eot_id|> and the <|endoftext|> pads after it) is
replaced by <|mdm_mask|> with probability t; the loss is the mean cross-entropy of the batch's
masked tokens. Why not LLaDA's 1/t weighting (each sample's sum of cross-entropy / t / its answer
length): it is unbiased for the likelihood bound but its variance needs LLaDA's batches; with 32
samples a step, one step in four holds a sample with t < 0.01 whose few masked tokens then weigh
100-1000 times the others: in a run with it, 58% of steps hit the gradient-norm clip of 1 and 10%
went above 5, and after 1400 steps the model still answered every colour question with one word.
Unshifted: logits row i scores the token at row i (rows: the ids after the image marker became
the image's rows).

A picture's samples are packed into one sequence: the prompt up to the image (system turn, user
header, image rows) once, then each question and its answer as a branch. A branch sees the shared
prompt and itself and has the RoPE positions it would have alone, right after the prompt; the
shared rows see only themselves. So each sample is the single-turn conversation the engine decodes,
except that the prompt's rows do not see the answer's; one picture's ~1300 rows serve every
question about it. Pads between the sequences of a batch are seen by no real row."""
import torch
import torch.nn.functional as F

from llada_v_ref import model as M

EPS = 1e-3
SHORT_TAIL = 8
LONG_TAILS = 0.25  # the share of samples whose pads may run to MAX_ANSWER answer positions
ROW_BUCKET = 256
MAX_ANSWER = 128   # LLaDA-V's generate_with_embeds default gen_length, the engine's for the family


def trailing_pads(n_answer, gen):
    """Pads after an answer: for LONG_TAILS of the samples up to the decoding length (MAX_ANSWER
    answer positions, as at inference), for the others at most SHORT_TAIL (cheaper; most is learned
    there)."""
    room = max(0, MAX_ANSWER - n_answer)
    if float(torch.rand((), generator=gen)) >= LONG_TAILS:
        room = min(room, SHORT_TAIL)
    return int(torch.randint(0, room + 1, (1,), generator=gen))


def noisy_answer(m, answer, gen, pads=True):
    """(answer ids with pads (unless `pads` is false) and masks, indices masked, their targets)."""
    ids = list(answer) + [m.pad_id] * (trailing_pads(len(answer), gen) if pads else 0)
    t = EPS + (1 - EPS) * float(torch.rand((), generator=gen))
    hit = torch.rand(len(ids), generator=gen) < t
    if not bool(hit.any()):
        hit[int(torch.randint(0, len(ids), (1,), generator=gen))] = True
    masked = torch.nonzero(hit).flatten().tolist()
    targets = [ids[p] for p in masked]
    for p in masked:
        ids[p] = m.mask_id
    return ids, masked, targets


def pack(m, seq, image_rows, gen, pads=True):
    """One picture's samples as rows: (embeds [T, H], branch of each row (0: shared), positions,
    masked rows, their targets)."""
    w = m.w
    shared = M.splice(w, seq["prefix"], [image_rows])
    parts, branch, positions = [shared], [0] * len(shared), list(range(len(shared)))
    rows, targets = [], []
    for k, br in enumerate(seq["branches"], 1):
        answer, masked, tgt = noisy_answer(m, br["answer"], gen, pads)
        ids = br["question"] + answer
        start = len(branch)
        rows += [start + len(br["question"]) + p for p in masked]
        targets += tgt
        parts.append(M.splice(w, ids, []))
        branch += [k] * len(ids)
        positions += range(len(shared), len(shared) + len(ids))
    return torch.cat(parts), branch, positions, rows, targets


def loss(m, batch, objective, gen):
    """The mean cross-entropy of the batch's masked tokens, and their number."""
    if objective != "diffusion":
        raise ValueError(f"a LLaDA-V trains with the diffusion objective only, not {objective}")
    images = M.images_rows(m.w, m.sizes, batch["pixel_values"], batch["crops_per_image"], batch["sizes"])
    pads = batch.get("trailing_pads", True)
    packed = [pack(m, seq, images[b], gen, pads) for b, seq in enumerate(batch["rows"])]
    # Batch lengths rounded up to a multiple of ROW_BUCKET: few distinct tensor sizes, so the blocks
    # that malloc_env keeps are reused instead of the heap growing with every new length (a run
    # without this grew to 24 GB and was killed once long answers changed the lengths).
    T = -(-max(len(p[0]) for p in packed) // ROW_BUCKET) * ROW_BUCKET
    branch = torch.full((len(packed), T), -1)  # -1: padding rows (they see the shared rows only)
    positions = torch.zeros(len(packed), T, dtype=torch.long)
    for b, (e, br, pos, *_) in enumerate(packed):
        branch[b, :len(e)] = torch.tensor(br)
        positions[b, :len(e)] = torch.tensor(pos)
    q, k = branch[:, :, None], branch[:, None, :]
    allowed = (k == 0) | ((k == q) & (k > 0))
    x = torch.stack([F.pad(p[0], (0, 0, 0, T - len(p[0]))) for p in packed])
    which = (torch.tensor([b for b, p in enumerate(packed) for _ in p[3]]),
             torch.tensor([r for p in packed for r in p[3]]))
    logits = M.lm_forward(m.w, m.sizes, x, allowed, output_rows=which, positions=positions)
    targets = torch.tensor([t for p in packed for t in p[4]])
    return F.cross_entropy(logits, targets), len(targets)
