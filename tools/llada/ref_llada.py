"""An independent float64 re-computation of LLaDA (our code, written from /work/shared/spec/llada.md
sections 5 and 6, not from the original files). Used only to measure how far the float32 goldens of
the original code are from exact arithmetic, and to check that every golden generation run is
reproduced when all arithmetic is float64 (the `f64_identical` flag).

    m = RefLLaDA(folder)                 # bf16 weights upcast exactly, then float64
    out = m.forward(ids[B, T], attention_mask=None)   # {"logits", "hidden_states"}
    x, steps = generate(m, prompt, ...)  # the generate() of LLaDA generate.py, in float64
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from dimple_ref import safetensors_io as S  # noqa: E402


class RefLLaDA:
    def __init__(self, folder, dtype=torch.float64, honour_mask=False, cfg=None, weights=None):
        """folder: a checkpoint; or folder=None with cfg (config dict) and weights ({name: float32 array})."""
        if folder is not None:
            with open(os.path.join(folder, "config.json")) as f:
                cfg = json.load(f)
            weights = {k: S.to_float(dt, a) for k, (dt, a) in S.read_folder(folder).items()}
        self.folder = folder
        self.cfg = cfg
        c = self.cfg
        self.dtype = dtype
        self.d = c["d_model"]
        self.nh = c["n_heads"]
        self.hd = self.d // self.nh
        self.nl = c["n_layers"]
        self.eps = c["rms_norm_eps"]
        self.theta = c["rope_theta"]
        self.honour_mask = honour_mask
        self.w = {k: torch.from_numpy(np.ascontiguousarray(a)).to(dtype) for k, a in weights.items()}

    def rms(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    def rope(self, T):
        i = torch.arange(0, self.hd, 2, dtype=torch.float64)
        inv = 1.0 / (self.theta ** (i / self.hd))
        ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        ang = torch.cat([ang, ang], dim=-1)
        return ang.cos().to(self.dtype), ang.sin().to(self.dtype)

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], dim=-1)

    def forward(self, ids, attention_mask=None):
        p = "model.transformer."
        B, T = ids.shape
        x = self.w[p + "wte.weight"][ids]
        cos, sin = self.rope(T)
        bias = None
        if self.honour_mask and attention_mask is not None and bool((attention_mask == 0).any()):
            bias = torch.zeros(B, 1, 1, T, dtype=self.dtype)
            bias[attention_mask[:, None, None, :] == 0] = torch.finfo(torch.float32).min
        hs = [x]
        for li in range(self.nl):
            b = f"{p}blocks.{li}."
            n = self.rms(x, self.w[b + "attn_norm.weight"])
            q = (n @ self.w[b + "q_proj.weight"].T).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = (n @ self.w[b + "k_proj.weight"].T).view(B, T, self.nh, self.hd).transpose(1, 2)
            v = (n @ self.w[b + "v_proj.weight"].T).view(B, T, self.nh, self.hd).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            s = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
            if bias is not None:
                s = s + bias
            a = torch.softmax(s, dim=-1) @ v
            a = a.transpose(1, 2).reshape(B, T, self.d)
            h = x + a @ self.w[b + "attn_out.weight"].T
            n = self.rms(h, self.w[b + "ff_norm.weight"])
            g = n @ self.w[b + "ff_proj.weight"].T
            u = n @ self.w[b + "up_proj.weight"].T
            x = h + (torch.nn.functional.silu(g) * u) @ self.w[b + "ff_out.weight"].T
            hs.append(x)
        x = self.rms(x, self.w[p + "ln_f.weight"])
        hs[-1] = x  # like the original: the last entry is the final-norm output
        logits = x @ self.w[p + "ff_out.weight"].T
        return {"logits": logits, "hidden_states": torch.stack(hs)}


def transfer_counts(n, steps):
    base, rem = divmod(int(n), steps)
    return [base + (1 if i < rem else 0) for i in range(steps)]


def generate(m, prompt, attention_mask=None, steps=128, gen_length=128, block_length=128, temperature=0.0,
             cfg_scale=0.0, remasking="low_confidence", mask_id=126336, uniforms=None):
    """Spec section 6 at temperature 0 (batch rows independent). `uniforms`: for remasking "random",
    the per-step [B, L] values the original drew (its torch.rand), replayed here."""
    if temperature != 0:
        raise ValueError("the float64 re-computation covers temperature 0 only")
    B, Lp = prompt.shape
    x = torch.full((B, Lp + gen_length), mask_id, dtype=torch.long)
    x[:, :Lp] = prompt
    if attention_mask is not None:
        attention_mask = torch.cat([attention_mask, torch.ones(B, gen_length, dtype=attention_mask.dtype)], 1)
    prompt_index = x != mask_id
    nb = gen_length // block_length
    s = steps // nb
    t = 0
    for b in range(nb):
        lo, hi = Lp + b * block_length, Lp + (b + 1) * block_length
        counts = [transfer_counts((x[r, lo:hi] == mask_id).sum(), s) for r in range(B)]
        for i in range(s):
            mask_index = x == mask_id
            if cfg_scale > 0:
                un = x.clone()
                un[prompt_index] = mask_id
                lg = m.forward(torch.cat([x, un]), None if attention_mask is None
                               else torch.cat([attention_mask, attention_mask]))["logits"]
                c, u = lg[:B], lg[B:]
                logits = u + (cfg_scale + 1) * (c - u)
            else:
                logits = m.forward(x, attention_mask)["logits"]
            x0 = logits.argmax(-1)
            if remasking == "low_confidence":
                conf = torch.softmax(logits, -1).gather(-1, x0[..., None])[..., 0]
            else:
                conf = torch.as_tensor(uniforms[t], dtype=torch.float64)
            conf[:, hi:] = -math.inf
            x0 = torch.where(mask_index, x0, x)
            conf = torch.where(mask_index, conf, torch.full_like(conf, -math.inf))
            for r in range(B):
                k = counts[r][i]
                if k:
                    sel = torch.topk(conf[r], k).indices
                    x[r, sel] = x0[r, sel]
            t += 1
    return x
