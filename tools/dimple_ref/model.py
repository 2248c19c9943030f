"""Dimple / Dream model reference: checkpoint loading, language model, M-RoPE, vision tower.

Everything is plain functions over a `Model` record (config + dict of weight tensors). Weights are
upcast exactly from the stored dtype to float32 (or float64 for error studies) and all arithmetic
runs in that dtype.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from . import safetensors_io


class Model:
    """Loaded checkpoint: `cfg` (config.json dict), `w` (name -> tensor) and derived sizes."""

    def __init__(self, folder, dtype=torch.float32):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        raw = safetensors_io.read_folder(folder)
        w = {}
        for name, (dt, arr) in raw.items():
            a = safetensors_io.to_float(dt, arr)
            t = torch.from_numpy(np.ascontiguousarray(a))
            w[name] = t.to(dtype) if t.is_floating_point() else t
        self._setup(cfg, w, dtype)
        self.folder = folder
        self.stored_dtypes = sorted({dt for dt, _ in raw.values()})

    @classmethod
    def from_weights(cls, cfg, w, dtype=torch.float32):
        """A model over given tensors (e.g. trainable parameters; see tools/train) instead of a folder."""
        m = cls.__new__(cls)
        m._setup(cfg, w, dtype)
        m.folder = None
        m.stored_dtypes = []
        return m

    def _setup(self, cfg, w, dtype):
        self.cfg = cfg
        self.w = w
        self.dtype = dtype
        self.model_type = cfg.get("model_type", "dimple")
        self.is_dream = self.model_type.lower() == "dream"
        # language model sizes
        self.hidden = cfg["hidden_size"]
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads", self.n_heads)
        self.head_dim = self.hidden // self.n_heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.rope_theta = cfg.get("rope_theta", 10000.0)
        sec = cfg.get("mrope_section")
        if sec is None and isinstance(cfg.get("rope_scaling"), dict):
            sec = cfg["rope_scaling"].get("mrope_section")
        if sec is None:  # Dream / plain RoPE: every frequency uses the t id (all three ids are equal)
            sec = [self.head_dim // 2, 0, 0]
        assert sum(sec) * 2 == self.head_dim, (sec, self.head_dim)
        self.mrope_section = list(sec)
        self.vocab = cfg["vocab_size"]
        self.mask_id = cfg.get("mask_token_id")
        self.pad_id = cfg.get("pad_token_id")
        self.eos_id = cfg.get("eos_token_id")
        self.bos_id = cfg.get("bos_token_id")
        self.image_id = cfg.get("image_token_id")
        self.vision_start_id = cfg.get("vision_start_token_id")
        self.vcfg = None if self.is_dream else cfg.get("vision_config")
        if self.vcfg is not None:
            v = self.vcfg
            self.v_hidden = v["hidden_size"]
            self.v_heads = v["num_heads"]
            self.v_head_dim = self.v_hidden // self.v_heads
            self.v_depth = v["depth"]
            self.v_fullatt = list(v.get("fullatt_block_indexes", []))
            self.patch = v.get("patch_size", 14)
            self.merge = v.get("spatial_merge_size", 2)
            self.tpatch = v.get("temporal_patch_size", 2)
            self.window = v.get("window_size", 112)


# ----------------------------------------------------------------------------------------------
# small building blocks

def rms_norm(x, weight, eps):
    """RMSNorm: x / sqrt(mean(x^2) + eps) * weight (computed in the tensor's own dtype)."""
    var = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(var + eps))


def linear(x, w, b=None):
    y = x @ w.t()
    return y + b if b is not None else y


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


# ----------------------------------------------------------------------------------------------
# positions (M-RoPE)

def get_rope_index(m, input_ids, image_grid_thw=None, attention_mask=None):
    """3-D position ids (3, B, L) and rope deltas (B, 1), Qwen2-VL rules.

    Text tokens get three equal ids counting on from the previous maximum + 1. An image (whose
    <image_pad> run starts after some text) of merged grid (T, H, W) gets ids (s+t, s+h, s+w) with s
    the next text position. Padded positions (attention_mask 0) keep id 1 and are skipped.
    Images are consumed in order across the batch rows from image_grid_thw.
    """
    input_ids = torch.as_tensor(input_ids)
    B, L = input_ids.shape
    if attention_mask is None:
        attention_mask = torch.ones(B, L, dtype=torch.long)
    attention_mask = torch.as_tensor(attention_mask)
    pos = torch.ones(3, B, L, dtype=torch.long)
    deltas = torch.zeros(B, 1, dtype=torch.long)
    grids = [] if image_grid_thw is None else [tuple(int(v) for v in g) for g in torch.as_tensor(image_grid_thw)]
    merge = m.merge if m.vcfg is not None else 2
    img_i = 0
    for b in range(B):
        keep = (attention_mask[b] == 1).nonzero().flatten().tolist()
        ids = input_ids[b, keep].tolist()
        out = torch.zeros(3, len(ids), dtype=torch.long)
        nxt = 0  # next text position
        j = 0
        while j < len(ids):
            if m.image_id is not None and ids[j] == m.image_id and img_i < len(grids):
                t, h, w = grids[img_i]
                img_i += 1
                h, w = h // merge, w // merge
                n = t * h * w
                ti = torch.arange(t).view(-1, 1).expand(-1, h * w).flatten()
                hi = torch.arange(h).view(1, -1, 1).expand(t, -1, w).flatten()
                wi = torch.arange(w).view(1, 1, -1).expand(t, h, -1).flatten()
                out[:, j:j + n] = torch.stack([ti, hi, wi]) + nxt
                nxt = int(out[:, j:j + n].max()) + 1
                j += n
            else:
                out[:, j] = nxt
                nxt += 1
                j += 1
        pos[:, b, keep] = out
        mx = int(out.max()) if len(ids) else -1
        deltas[b, 0] = mx + 1 - L
    return pos, deltas


def mrope_cos_sin(m, position_ids, dtype=None):
    """cos/sin of shape (3, B, L, head_dim), one per t/h/w id, halves duplicated (before selection)."""
    dtype = dtype or m.dtype
    d = m.head_dim
    inv_freq = 1.0 / (m.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).to(torch.float32) / d))
    if dtype == torch.float64:
        inv_freq = 1.0 / (m.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = position_ids.to(inv_freq.dtype)[..., None] * inv_freq  # (3, B, L, d/2)
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def select_mrope(m, cos3):
    """Pick, per frequency channel, the t/h/w row according to mrope_section (repeated twice)."""
    sec = m.mrope_section * 2
    parts, start = [], 0
    for i, n in enumerate(sec):
        parts.append(cos3[i % 3, ..., start:start + n])
        start += n
    return torch.cat(parts, dim=-1)  # (B, L, head_dim)


# ----------------------------------------------------------------------------------------------
# language model

def embed(m, input_ids, image_embeds=None):
    x = m.w["model.embed_tokens.weight"][torch.as_tensor(input_ids)]
    if image_embeds is not None and m.image_id is not None:
        sel = torch.as_tensor(input_ids) == m.image_id
        n = int(sel.sum())
        assert n == image_embeds.shape[0], f"{n} image tokens but {image_embeds.shape[0]} image rows"
        x = x.clone()
        x[sel] = image_embeds.to(x.dtype)
    return x


def lm_forward(m, input_ids, position_ids, attention_mask=None, image_embeds=None,
               kv_prefix=None, keep_kv=0, causal=False):
    """Bidirectional decoder forward.

    input_ids (B, L); position_ids (3, B, L); attention_mask (B, L) of 0/1 or None.
    image_embeds: rows that replace the embeddings of the image_pad tokens, in order.
    kv_prefix: per-layer (k, v) of shape (B, n_kv, P, head_dim) that precede these tokens; every
      query attends to all of them (prefill cache).
    keep_kv: return the k/v (after RoPE) of the first keep_kv positions of this call per layer.
    Returns dict(hidden_states=[emb, layer0, ..., layer n-2, final norm], logits (unshifted), kv).
    Padding rule: query q sees key k iff mask[q] and mask[k]; every query also sees itself.
    causal: query q sees only keys k <= q (autoregressive training, tools/train); not with kv_prefix.
    """
    w = m.w
    input_ids = torch.as_tensor(input_ids)
    B, L = input_ids.shape
    nh, nkv, hd = m.n_heads, m.n_kv, m.head_dim
    x = embed(m, input_ids, image_embeds)
    cos3, sin3 = mrope_cos_sin(m, position_ids)
    cos = select_mrope(m, cos3)[:, None]  # (B, 1, L, hd)
    sin = select_mrope(m, sin3)[:, None]
    allowed = None
    if attention_mask is not None:
        am = torch.as_tensor(attention_mask).bool()
        if not bool(am.all()):
            assert kv_prefix is None
            allowed = am[:, :, None] & am[:, None, :]
            allowed = allowed | torch.eye(L, dtype=torch.bool)[None]
            allowed = allowed[:, None]  # (B, 1, L, L)
    if causal:
        assert kv_prefix is None
        lower = torch.tril(torch.ones(L, L, dtype=torch.bool))[None, None]
        allowed = lower if allowed is None else allowed & lower
    hidden_states = [x]
    kept = []
    scale = 1.0 / math.sqrt(hd)
    for li in range(m.n_layers):
        p = f"model.layers.{li}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], m.eps)
        q = linear(h, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"])
        k = linear(h, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"])
        v = linear(h, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"])
        q = q.view(B, L, nh, hd).transpose(1, 2)
        k = k.view(B, L, nkv, hd).transpose(1, 2)
        v = v.view(B, L, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if keep_kv:
            kept.append((k[:, :, :keep_kv].clone(), v[:, :, :keep_kv].clone()))
        if kv_prefix is not None:
            k = torch.cat([kv_prefix[li][0], k], dim=2)
            v = torch.cat([kv_prefix[li][1], v], dim=2)
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = (q @ k.transpose(-1, -2)) * scale
        if allowed is not None:
            s = s.masked_fill(~allowed, float("-inf"))
        a = torch.softmax(s, dim=-1) @ v  # (B, nh, L, hd)
        a = a.transpose(1, 2).reshape(B, L, nh * hd)
        x = x + linear(a, w[p + "self_attn.o_proj.weight"])
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], m.eps)
        g = linear(h, w[p + "mlp.gate_proj.weight"])
        u = linear(h, w[p + "mlp.up_proj.weight"])
        x = x + linear(F.silu(g) * u, w[p + "mlp.down_proj.weight"])
        if li < m.n_layers - 1:
            hidden_states.append(x)
    x = rms_norm(x, w["model.norm.weight"], m.eps)
    hidden_states.append(x)
    lm_head = w["lm_head.weight"] if "lm_head.weight" in w else w["model.embed_tokens.weight"]
    logits = x @ lm_head.t()
    return {"hidden_states": hidden_states, "logits": logits, "kv": kept,
            "rope_cos": cos3, "rope_sin": sin3}


# ----------------------------------------------------------------------------------------------
# vision tower (Qwen2.5-VL ViT) and projector

def vision_rot_angles(m, grid_thw):
    """(N, v_head_dim/2) rotary angles per patch, processor order: concat(row*inv, col*inv)."""
    dim = m.v_head_dim // 2
    inv = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    rows = []
    for t, h, w in grid_thw:
        hp = torch.arange(h).view(-1, 1).expand(-1, w)
        wp = torch.arange(w).view(1, -1).expand(h, -1)
        mg = m.merge

        def order(a):
            return a.reshape(h // mg, mg, w // mg, mg).permute(0, 2, 1, 3).flatten()

        ids = torch.stack([order(hp), order(wp)], dim=-1).repeat(t, 1)  # (t*h*w, 2)
        rows.append(ids)
    ids = torch.cat(rows)
    ang = ids.to(torch.float32)[..., None] * inv  # (N, 2, dim/2)
    return ang.flatten(1)


def vision_window_index(m, grid_thw):
    """Merge-unit permutation into window order, raw cu_window_seqlens (with repeats)."""
    ws = m.window // m.merge // m.patch  # window side in merge units
    unit = m.merge * m.merge
    index, cu = [], [0]
    base = 0
    for t, h, w in grid_thw:
        gh, gw = h // m.merge, w // m.merge
        idx = torch.arange(t * gh * gw).reshape(t, gh, gw)
        ph = ws - gh % ws  # a full window of padding when the side is an exact multiple (quirk F5)
        pw = ws - gw % ws
        nh, nw = (gh + ph) // ws, (gw + pw) // ws
        padded = F.pad(idx, (0, pw, 0, ph), "constant", -100)
        padded = padded.reshape(t, nh, ws, nw, ws).permute(0, 1, 3, 2, 4).reshape(t, nh * nw, ws, ws)
        counts = (padded != -100).sum([2, 3]).reshape(-1)
        flat = padded.reshape(-1)
        index.append(flat[flat != -100] + base)
        for c in (counts.cumsum(0) * unit + cu[-1]).tolist():
            cu.append(int(c))
        base += t * gh * gw
    return torch.cat(index), torch.tensor(cu, dtype=torch.long)


def _segment_index(cu):
    """(segments, longest) positions of each segment of cu, -1 past a segment's end: attention
    within segments computed segment by segment (batched), not as one N x N masked matrix, which
    costs (N / segment length) times more (16x for a training batch of 16 images)."""
    cu = [int(c) for c in cu]
    lens = [b - a for a, b in zip(cu, cu[1:]) if b > a]
    starts = [a for a, b in zip(cu, cu[1:]) if b > a]
    longest = max(lens)
    ar = torch.arange(longest)
    idx = torch.tensor(starts)[:, None] + ar[None]
    return torch.where(ar[None] < torch.tensor(lens)[:, None], idx, torch.full_like(idx, -1))


def _segment_attention(q, k, v, seg, scale):
    """Softmax attention of q, k, v (nh, N, hd) within the segments of seg (_segment_index)."""
    nh, N, hd = q.shape
    valid = seg >= 0
    flat = seg.clamp(min=0).reshape(-1)
    S, Lmax = seg.shape
    qs, ks, vs = (t[:, flat].reshape(nh, S, Lmax, hd) for t in (q, k, v))
    s = (qs @ ks.transpose(-1, -2)) * scale
    s = s.masked_fill(~valid[None, :, None, :], float("-inf"))
    a = torch.softmax(s, dim=-1) @ vs  # (nh, S, Lmax, hd)
    out = q.new_zeros(nh, N, hd)
    return out.index_copy(1, seg[valid], a[:, valid])


def vision_forward(m, pixel_values, grid_thw):
    """Vision tower + projector. Returns a dict of every intermediate (names as in the goldens)."""
    w = m.w
    dt = m.dtype
    grid = [tuple(int(v) for v in g) for g in torch.as_tensor(grid_thw)]
    px = torch.as_tensor(pixel_values).to(dt)
    N = px.shape[0]
    C = m.v_hidden
    out = {}
    pw = w["visual.patch_embed.proj.weight"].reshape(C, -1)
    x = px @ pw.t()
    out["vis_patch_embed"] = x
    ang = vision_rot_angles(m, grid)
    out["vis_rot_pos_emb"] = ang
    widx, cu_raw = vision_window_index(m, grid)
    out["vis_window_index"] = widx
    out["vis_cu_window_seqlens_raw"] = cu_raw
    cu_win = torch.unique_consecutive(cu_raw)
    out["vis_cu_window_seqlens"] = cu_win
    sizes = [t * h * ww for t, h, ww in grid]
    cu_full = torch.tensor([0] + list(np.cumsum(sizes)), dtype=torch.long)
    out["vis_cu_seqlens"] = cu_full
    unit = m.merge * m.merge
    x = x.reshape(N // unit, unit, C)[widx].reshape(N, C)
    ang = ang.reshape(N // unit, unit, -1)[widx].reshape(N, -1)
    emb = torch.cat([ang, ang], dim=-1).to(dt)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # (N, 1, hd)
    seg_win = _segment_index(cu_win)
    seg_full = _segment_index(cu_full)
    nh, hd = m.v_heads, m.v_head_dim
    scale = 1.0 / math.sqrt(hd)
    for bi in range(m.v_depth):
        p = f"visual.blocks.{bi}."
        h = rms_norm(x, w[p + "norm1.weight"], 1e-6)
        qkv = linear(h, w[p + "attn.qkv.weight"], w[p + "attn.qkv.bias"]).reshape(N, 3, nh, hd)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (N, nh, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        a = _segment_attention(q, k, v, seg_full if bi in m.v_fullatt else seg_win, scale)
        a = a.transpose(0, 1).reshape(N, C)
        x = x + linear(a, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])
        h = rms_norm(x, w[p + "norm2.weight"], 1e-6)
        g = linear(h, w[p + "mlp.gate_proj.weight"], w[p + "mlp.gate_proj.bias"])
        u = linear(h, w[p + "mlp.up_proj.weight"], w[p + "mlp.up_proj.bias"])
        x = x + linear(F.silu(g) * u, w[p + "mlp.down_proj.weight"], w[p + "mlp.down_proj.bias"])
        out[f"vis_block{bi}_out"] = x
    h = rms_norm(x, w["visual.merger.ln_q.weight"], 1e-6).reshape(N // unit, unit * C)
    h = linear(h, w["visual.merger.mlp.0.weight"], w["visual.merger.mlp.0.bias"])
    h = F.gelu(h)
    h = linear(h, w["visual.merger.mlp.2.weight"], w["visual.merger.mlp.2.bias"])
    out["vis_merger_out_windowed"] = h
    h = h[torch.argsort(widx)]
    out["vis_out"] = h
    out["projected"] = project(m, h)
    return out


def project(m, vis_out):
    """img_projector: Linear -> act (config hidden_act, SiLU) -> Linear."""
    w = m.w
    h = linear(vis_out, w["img_projector.linear_1.weight"], w["img_projector.linear_1.bias"])
    act = m.cfg.get("hidden_act", "silu")
    h = F.gelu(h) if act.startswith("gelu") else F.silu(h)
    return linear(h, w["img_projector.linear_2.weight"], w["img_projector.linear_2.bias"])


# ----------------------------------------------------------------------------------------------
# convenience: one full forward case as in the goldens

def forward_case(m, input_ids, attention_mask=None, pixel_values=None, image_grid_thw=None):
    """Positions, optional vision, LM forward. Returns a dict named like the golden arrays."""
    input_ids = torch.as_tensor(input_ids)
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    attention_mask = torch.as_tensor(attention_mask)
    res = {}
    image_embeds = None
    if pixel_values is not None:
        vis = vision_forward(m, pixel_values, image_grid_thw)
        res.update(vis)
        image_embeds = vis["projected"]
    pos, deltas = get_rope_index(m, input_ids, image_grid_thw, attention_mask)
    res["position_ids"] = pos
    res["rope_deltas"] = deltas
    o = lm_forward(m, input_ids, pos, attention_mask, image_embeds)
    res["rope_cos"] = o["rope_cos"]
    res["rope_sin"] = o["rope_sin"]
    res["hidden_states"] = torch.stack(o["hidden_states"])
    res["logits"] = o["logits"]
    return res
