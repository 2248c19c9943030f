"""torch 1.13 compatibility for the original LLaDA files (see README.md beside this file)."""
import math

import torch
import torch.nn.functional as F


def _compile(model=None, **kwargs):
    """torch.compile stand-in: no compilation; works as @torch.compile and @torch.compile()."""
    if model is None:
        return lambda fn: fn
    return model


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Math definition of torch 2.x scaled_dot_product_attention (no fused kernel)."""
    L, S = query.size(-2), key.size(-2)
    s = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    att = torch.matmul(query, key.transpose(-2, -1)) * s
    if is_causal:
        causal = torch.ones(L, S, dtype=torch.bool, device=query.device).tril(diagonal=0)
        att = att.masked_fill(~causal, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            att = att.masked_fill(~attn_mask, float("-inf"))
        else:
            att = att + attn_mask
    att = torch.softmax(att, dim=-1)
    if dropout_p > 0.0:
        att = torch.dropout(att, dropout_p, True)
    return torch.matmul(att, value)


_topk = torch.topk


def _topk_any_k(input, k, *args, **kwargs):
    """torch.topk taking a one-element tensor as k, as torch 2.x does (Fast-dLLM's threshold path
    passes mask_index.sum(dim=1, keepdim=True)[j])."""
    if isinstance(k, torch.Tensor):
        k = int(k.item())
    return _topk(input, k, *args, **kwargs)


def install():
    import torch.backends.cuda as tbc
    for name in ("enable_flash_sdp", "enable_mem_efficient_sdp", "enable_math_sdp"):
        if not hasattr(tbc, name):  # CUDA kernel switches; no effect on CPU
            setattr(tbc, name, lambda enabled: None)
    if not hasattr(torch, "compile"):
        torch.compile = _compile
    torch.topk = _topk_any_k
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = _sdpa
