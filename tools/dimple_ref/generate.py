"""diffusion_generate: Dimple's masked-diffusion decoding (pipelines `dim` and `dream`).

Batch size 1 (the prompt is one row, no padding). All schedule arithmetic is done on float32 torch
tensors, exactly like the original (quirks G1-G11 of goldens/tiny-a/README.md). Random choices use
the torch.Generator passed in (or the global torch RNG); the result records whether any random
number was drawn (`consumed_rng`), and the decision margins that say how close each run came to a
different outcome (`gaps`).
"""
import math

import torch

from . import model as M

# Defaults of the original call when the caller passes only some options (quirk G1): they come
# from the model config's generic defaults, notably temperature 1.0 and top_k 50.
MODEL_CONFIG_DEFAULTS = dict(
    steps=512, eps=1e-3, alg="origin", alg_temp=None, temperature=1.0, top_p=None, top_k=50,
    use_original_confidence=True, decoding_pipeline="dim", alg_p_threshold=None, use_cache=False,
)
# Dimple's own generation-config class defaults (apply when the loaded generation config object is
# passed explicitly to the original call).
DIMPLE_CLASS_DEFAULTS = dict(MODEL_CONFIG_DEFAULTS, temperature=0.0, top_k=None)

ALGS = ("origin", "origin-ratio", "autoregressive", "maskgit_plus", "topk_margin", "entropy")


def timesteps_cpu(steps, eps):
    """float32 torch.linspace(1, eps, steps+1) as the CPU kernel computes it (quirk G7)."""
    return torch.linspace(1, eps, steps + 1, dtype=torch.float32)


def timesteps_cuda_style(steps, eps):
    """Every element computed as one scalar(i) with a single rounding (what CUDA does)."""
    n = steps + 1
    step = float(torch.tensor((eps - 1.0) / steps, dtype=torch.float32))
    eps32 = float(torch.tensor(eps, dtype=torch.float32))
    vals = []
    for i in range(n):
        v = 1.0 + step * i if i < n // 2 else eps32 - step * (n - 1 - i)
        vals.append(v)
    return torch.tensor(vals, dtype=torch.float64).to(torch.float32)


# ----------------------------------------------------------------------------------------------
# token sampling

def _top_p_filter(logits, p, gaps):
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    cum = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
    remove = cum > p
    _gap(gaps, "top_p", float((cum.double() - float(torch.tensor(p, dtype=cum.dtype))).abs().min())
         if cum.numel() else None)
    remove[..., 1:] = remove[..., :-1].clone()  # keep the token that crosses p
    remove[..., 0] = False
    drop = torch.zeros_like(remove).scatter(-1, order, remove)
    return logits.masked_fill(drop, torch.finfo(logits.dtype).min)


def _top_k_filter(logits, k):
    k = min(int(k), logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1)[0][..., -1:]
    return logits.masked_fill(logits < kth, torch.finfo(logits.dtype).min)


def _gap(gaps, name, value):
    if value is None:
        return
    cur = gaps.get(name)
    gaps[name] = value if cur is None else min(cur, value)


def sample_tokens(logits, alg, temperature, top_p, top_k, original_confidence, gen, state):
    """Per masked row: x0 and its confidence for `alg`.

    original_confidence: read p from the unprocessed softmax (dim + use_original_confidence);
    otherwise from the processed (temperature / top-p / top-k renormalised) one.
    """
    orig = logits
    lg = logits
    if temperature is not None and temperature > 0:
        lg = lg / temperature
    if top_p is not None and top_p < 1:
        lg = _top_p_filter(lg, top_p, state["gaps"])
    if top_k is not None:
        lg = _top_k_filter(lg, top_k)
    probs = torch.softmax(lg, dim=-1)
    if temperature is not None and temperature > 0:
        state["consumed_rng"] = True
        x0 = torch.multinomial(probs, 1, replacement=True, generator=gen).squeeze(-1)
    else:
        x0 = probs.argmax(dim=-1)
    p = torch.softmax(orig, dim=-1) if original_confidence else probs
    if alg == "topk_margin":
        top2 = torch.topk(p, 2, dim=-1)[0]
        conf = top2[:, 0] - top2[:, 1]
    elif alg == "entropy":
        conf = (p * torch.log(p + 1e-10)).sum(-1)
    else:
        conf = torch.gather(p, -1, x0[:, None]).squeeze(-1)
    return conf, x0


# ----------------------------------------------------------------------------------------------
# forward with optional prefill cache

class _Forward:
    """Runs the model for one decoding step; returns the shifted logits of the needed positions.

    Without cache every step feeds the whole sequence. With cache (quirk G8), P = prompt_len - 1:
    step 0 feeds everything and keeps K/V of positions 0..P-1; later steps feed P..end.
    """

    def __init__(self, m, position_ids, image_embeds, use_cache, prompt_len):
        self.m = m
        self.pos = position_ids
        self.image_embeds = image_embeds
        self.use_cache = use_cache
        self.P = prompt_len - 1
        self.cache = None

    def __call__(self, x):
        L = x.shape[1]
        if self.cache is None:
            o = M.lm_forward(self.m, x, self.pos, None, self.image_embeds,
                             keep_kv=self.P if self.use_cache else 0)
            if self.use_cache:
                self.cache = o["kv"]
            lg = o["logits"][0]
            return torch.cat([lg[:1], lg[:-1]], dim=0), 0, L  # row j predicts position j
        P = self.P
        o = M.lm_forward(self.m, x[:, P:], self.pos[:, :, P:], None, None, kv_prefix=self.cache)
        lg = o["logits"][0]
        return lg[:-1], P + 1, L - P  # row j - (P+1) predicts position j >= P+1


# ----------------------------------------------------------------------------------------------
# schedules

def dim_transfer_count(n_mask, init_mask, i, steps, ts):
    """dim schedule (quirk G4). Returns (n, s_index, ratio)."""
    nm = torch.tensor(n_mask)
    r = nm / torch.tensor(init_mask)  # float32
    for s in range(i + 1, steps + 1):
        if not bool(ts[s] < r):
            continue
        if s == steps:
            return n_mask, s, r
        n = int(nm * (1 - ts[s] / r))
        if n >= 1:
            return n, s, r
    return n_mask, steps, r


def dream_transfer_count(n_mask, i, steps, ts):
    if i >= steps - 1:
        return n_mask
    nm = torch.tensor(n_mask) / 1  # float32, like mask_index.sum() / batch
    return int(nm * (1 - ts[i + 1] / ts[i]))


def _topk_commit(conf, mpos, L, n, alg_temp, gen, state, compact):
    """Choose n of the masked positions by confidence; returns absolute positions.

    alg_temp > 0 samples n positions without replacement from softmax(confidence / alg_temp):
    over the masked positions only in `dim` (compact=True; this reproduces the seeded golden runs),
    over the full-length vector with -inf at non-masks in `dream` (Dream's original code).
    """
    full = torch.full((L,), float("-inf"), dtype=conf.dtype)
    full[mpos] = conf
    if alg_temp is not None and alg_temp > 0:
        state["consumed_rng"] = True
        if compact:
            w = torch.softmax(conf / alg_temp, dim=-1)
            return mpos[torch.multinomial(w, n, replacement=False, generator=gen)]
        w = torch.softmax(full / alg_temp, dim=-1)
        return torch.multinomial(w, n, replacement=False, generator=gen)
    if n < conf.numel():
        c = torch.sort(conf.double(), descending=True)[0]
        _gap(state["gaps"], "topk", float(c[n - 1] - c[n]))
    return torch.topk(full, n)[1]


# ----------------------------------------------------------------------------------------------

def diffusion_generate(m, input_ids, pixel_values=None, image_grid_thw=None, max_new_tokens=None,
                       prior=None, generator=None, timesteps=None, image_embeds=None,
                       debug=True, defaults=None, **options):
    """Masked-diffusion decoding of `max_new_tokens` answer tokens after `input_ids` (1, L0).

    options (unset ones come from `defaults`, MODEL_CONFIG_DEFAULTS unless given): steps, eps,
      alg, alg_temp, temperature, top_p, top_k (explicit None disables the default 50),
      use_original_confidence, decoding_pipeline ('dim'|'dream'), alg_p_threshold, use_cache.
    prior: {answer offset: token id} written once before the first step (structure priors).
    generator: torch.Generator for the random parts. timesteps: override the schedule tensor.
    Returns dict(sequence, history_answer, n_steps_run, step_debug, consumed_rng, gaps).
    """
    opts = dict(MODEL_CONFIG_DEFAULTS if defaults is None else defaults)
    for k, v in options.items():
        if k not in opts:
            raise TypeError(f"unknown option {k}")
        opts[k] = v
    if max_new_tokens is None:
        raise ValueError("max_new_tokens is required")
    steps, eps, alg = int(opts["steps"]), float(opts["eps"]), opts["alg"]
    pipeline = opts["decoding_pipeline"]
    if alg not in ALGS:
        raise ValueError(f"unknown alg {alg}")
    if pipeline not in ("dim", "dream"):
        raise ValueError(f"unknown decoding_pipeline {pipeline}")
    temperature, top_p, top_k = opts["temperature"], opts["top_p"], opts["top_k"]
    alg_temp, thr = opts["alg_temp"], opts["alg_p_threshold"]
    use_orig = bool(opts["use_original_confidence"]) and pipeline == "dim"
    mask_id = m.mask_id

    prompt = torch.as_tensor(input_ids, dtype=torch.long).reshape(1, -1)
    L0 = prompt.shape[1]
    x = torch.cat([prompt, torch.full((1, max_new_tokens), mask_id, dtype=torch.long)], dim=1)
    if prior:
        for off, tok in prior.items():
            x[0, L0 + int(off)] = int(tok)
    if image_embeds is None and pixel_values is not None:
        image_embeds = M.vision_forward(m, pixel_values, image_grid_thw)["projected"]
    pos, _ = M.get_rope_index(m, x, image_grid_thw)
    fwd = _Forward(m, pos, image_embeds, bool(opts["use_cache"]), L0)
    ts = timesteps_cpu(steps, eps) if timesteps is None else timesteps
    init_mask = int((x[0] == mask_id).sum())
    state = {"consumed_rng": False, "gaps": {}}
    history, step_debug = [], []

    for i in range(steps):
        mpos = (x[0] == mask_id).nonzero().flatten()
        nm = int(mpos.numel())
        if nm == 0:
            if pipeline == "dim":
                break
            history.append(x[0, L0:].tolist())
            continue
        shifted, start, n_in = fwd(x)
        ml = shifted[mpos - start]
        full_p = torch.softmax(ml, dim=-1)
        top2 = torch.topk(full_p, 2, dim=-1)
        _gap(state["gaps"], "argmax", float((top2[0][:, 0].double() - top2[0][:, 1].double()).min()))
        if debug:
            step_debug.append({"step": i, "n_in": n_in, "mask_pos": mpos.tolist(),
                               "argmax": top2[1][:, 0].tolist(), "p_top1": top2[0][:, 0].tolist(),
                               "p_top2": top2[0][:, 1].tolist()})
        if pipeline == "dream" and alg == "origin":
            t, s = ts[i], ts[i + 1]
            p_transfer = 1 - s / t if i < steps - 1 else 1.0
            state["consumed_rng"] = True
            sel = torch.rand(nm, generator=generator) < p_transfer
            if bool(sel.any()):
                _, x0 = sample_tokens(ml[sel], alg, temperature, top_p, top_k, False, generator, state)
                x[0, mpos[sel]] = x0
        else:
            conf, x0 = sample_tokens(ml, alg, temperature, top_p, top_k, use_orig, generator, state)
            if pipeline == "dim":
                _dim_step(x, i, steps, alg, conf, x0, mpos, nm, init_mask, ts, thr, alg_temp,
                          generator, state)
            else:
                _dream_step(x, i, steps, alg, conf, x0, mpos, nm, ts, alg_temp, generator, state)
        history.append(x[0, L0:].tolist())
        if pipeline == "dim" and not bool((x[0] == mask_id).any()):
            break

    return {"sequence": x[0].tolist(), "history_answer": history, "n_steps_run": len(history),
            "step_debug": step_debug, "consumed_rng": state["consumed_rng"], "gaps": state["gaps"],
            "prompt_len": L0}


def _dim_step(x, i, steps, alg, conf, x0, mpos, nm, init_mask, ts, thr, alg_temp, gen, state):
    L = x.shape[1]
    if thr is not None and thr > 0:
        if i == steps - 1:
            sel = torch.ones(nm, dtype=torch.bool)
        else:
            sel = conf > thr
            if alg != "entropy":
                _gap(state["gaps"], "threshold",
                     float((conf.double() - float(torch.tensor(thr, dtype=conf.dtype))).abs().min()))
        if bool(sel.any()):
            x[0, mpos[sel]] = x0[sel]
            return
    if alg == "autoregressive":  # exactly one token: the leftmost mask (quirk G5)
        x[0, mpos[0]] = x0[0]
        return
    n, s_idx, r = dim_transfer_count(nm, init_mask, i, steps, ts)
    if alg == "origin":
        state["consumed_rng"] = True
        pick = torch.randperm(nm, generator=gen)[:n]
        x[0, mpos[pick]] = x0[pick]
        return
    if alg == "origin-ratio":
        # Each mask with probability 1 - t_s / r (t_s from the dim schedule; 1 at the final index).
        # Only seeded golden runs pin this down; they reproduce with the same torch generator.
        state["consumed_rng"] = True
        p = 1 - ts[s_idx] / r if s_idx < steps else 1.0
        sel = torch.rand(nm, generator=gen) < p
        x[0, mpos[sel]] = x0[sel]
        return
    idx = _topk_commit(conf, mpos, L, n, alg_temp, gen, state, compact=True)
    rel = torch.searchsorted(mpos, idx)
    x[0, idx] = x0[rel]


def _dream_step(x, i, steps, alg, conf, x0, mpos, nm, ts, alg_temp, gen, state):
    L = x.shape[1]
    if alg == "autoregressive":
        x[0, mpos[0]] = x0[0]
        return
    if alg == "origin-ratio":
        raise ValueError("origin-ratio is a dim-pipeline algorithm")
    n = dream_transfer_count(nm, i, steps, ts)
    if n <= 0:
        return
    idx = _topk_commit(conf, mpos, L, n, alg_temp, gen, state, compact=False)
    rel = torch.searchsorted(mpos, idx)
    x[0, idx] = x0[rel]


def answer_tokens(m, sequence, prompt_len):
    """User-visible answer: tokens up to the first eos; the rest becomes pad."""
    ans = list(sequence[prompt_len:])
    if m.eos_id in ans:
        k = ans.index(m.eos_id)
        ans = ans[:k + 1] + [m.pad_id] * (len(ans) - k - 1)
    return ans


def margin_of(gaps):
    vals = [v for v in gaps.values() if v is not None]
    return min(vals) if vals else math.inf
