#!/usr/bin/python3
"""Write a random tiny LLaDA text checkpoint in the published LLaDA-8B-Instruct layout.

Usage: /usr/bin/python3 tools/llada/make_tiny_llada.py OUT_DIR [--d-model 64 --n-heads 2 --n-layers 2
           --mlp 192 --vocab 2048 --shards 2 --seed 7 --qk-scale 3 --logit-std 3 --dtype bf16]

config.json is LLaDA-8B-Instruct's (every key, same order of ideas: OLMo-style names, "llama" block,
RMS norm, SiLU, RoPE theta 500000, untied head, no biases) with small sizes; model_type "llada",
architectures ["LLaDAModelLM"]. Tensors use the published names
  model.transformer.wte.weight [V, d]          model.transformer.ln_f.weight [d]
  model.transformer.ff_out.weight [V, d]       (untied output head)
  model.transformer.blocks.{i}.{attn_norm,ff_norm}.weight [d]
  model.transformer.blocks.{i}.{q_proj,k_proj,v_proj,attn_out}.weight [d, d]
  model.transformer.blocks.{i}.{ff_proj,up_proj}.weight [mlp, d]   (ff_proj is the SiLU-gated branch)
  model.transformer.blocks.{i}.ff_out.weight [d, mlp]
stored as bf16 safetensors in --shards files with model.safetensors.index.json (total_size in bytes).

Special ids keep their distance from the END of the vocabulary of the real model (V = 126464):
  bos <|startoftext|> V-384, eos = pad <|endoftext|> V-383, mask <|mdm_mask|> V-128,
  <|start_header_id|> V-118, <|end_header_id|> V-117, <|eot_id|> V-116; the real tokenizer's
  length is V-115 (rows V-115..V-1 are padding rows). For V = 2048: 1664, 1665, 1920, 1930, 1931,
  1932, tokenizer length 1933. Prompts use ids below 1664. generation_config.json holds bos/eos/pad
  (and mask, ours); special_ids.json lists them all.

Deterministic from --seed (torch.Generator on CPU). Weights are normal draws scaled so that the
random model is not near-uniform: large q/k weights make attention peaky and position dependent
(mask positions differ only through RoPE), and the head gives logits of std about --logit-std.
The head rows of eos and of the mask id are then enlarged (--eos-scale, --mask-boost) so that both
are sometimes the argmax at a masked position, as eos is in the real model (SFT answers are padded
with eos) and as the mask id can be in principle (generate() then leaves the position masked).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from dimple_ref import safetensors_io as S  # noqa: E402

REAL_VOCAB = 126464
REAL_SPECIAL = {  # real id in LLaDA-8B-Instruct
    "bos_token_id": 126080, "eos_token_id": 126081, "pad_token_id": 126081, "mask_token_id": 126336,
    "start_header_id": 126346, "end_header_id": 126347, "eot_id": 126348,
}
REAL_TOKENIZER_LEN = 126349


def special_ids(vocab):
    return {k: vocab - (REAL_VOCAB - v) for k, v in REAL_SPECIAL.items()}


def build_config(a):
    sp = special_ids(a.vocab)
    cfg = {
        "activation_type": "silu",
        "alibi": False,
        "alibi_bias_max": 8.0,
        "architectures": ["LLaDAModelLM"],
        "attention_dropout": 0.0,
        "attention_layer_norm": False,
        "attention_layer_norm_with_affine": True,
        "auto_map": {
            "AutoConfig": "configuration_llada.LLaDAConfig",
            "AutoModelForCausalLM": "modeling_llada.LLaDAModelLM",
            "AutoModel": "modeling_llada.LLaDAModelLM",
        },
        "bias_for_layer_norm": False,
        "block_group_size": 1,
        "block_type": "llama",
        "d_model": a.d_model,
        "embedding_dropout": 0.0,
        "embedding_size": a.vocab,
        "eos_token_id": sp["eos_token_id"],
        "flash_attention": False,
        "include_bias": False,
        "include_qkv_bias": False,
        "init_cutoff_factor": None,
        "init_device": "meta",
        "init_fn": "mitchell",
        "init_std": 0.02,
        "input_emb_norm": False,
        "layer_norm_type": "rms",
        "layer_norm_with_affine": True,
        "mask_token_id": sp["mask_token_id"],
        "max_sequence_length": 4096,
        "mlp_hidden_size": a.mlp,
        "mlp_ratio": 4,
        "model_type": "llada",
        "multi_query_attention": None,
        "n_heads": a.n_heads,
        "n_kv_heads": a.n_heads,
        "n_layers": a.n_layers,
        "pad_token_id": sp["pad_token_id"],
        "precision": "amp_bf16",
        "residual_dropout": 0.0,
        "rms_norm_eps": 1e-05,
        "rope": True,
        "rope_full_precision": True,
        "rope_theta": 500000.0,
        "scale_logits": False,
        "transformers_version": "4.46.3",
        "use_cache": False,
        "vocab_size": a.vocab,
        "weight_tying": False,
    }
    return cfg


def build_weights(a):
    g = torch.Generator().manual_seed(a.seed)

    def normal(shape, std, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).numpy().astype(np.float32)

    d, m, V = a.d_model, a.mlp, a.vocab
    qk = a.qk_scale / math.sqrt(d)
    p = "model.transformer."
    w = {p + "wte.weight": normal((V, d), 1.0)}
    for i in range(a.n_layers):
        b = f"{p}blocks.{i}."
        w[b + "attn_norm.weight"] = normal((d,), 0.1, 1.0)
        w[b + "ff_norm.weight"] = normal((d,), 0.1, 1.0)
        w[b + "q_proj.weight"] = normal((d, d), qk)
        w[b + "k_proj.weight"] = normal((d, d), qk)
        w[b + "v_proj.weight"] = normal((d, d), 1 / math.sqrt(d))
        w[b + "attn_out.weight"] = normal((d, d), 1 / math.sqrt(d))
        w[b + "ff_proj.weight"] = normal((m, d), 1 / math.sqrt(d))
        w[b + "up_proj.weight"] = normal((m, d), 1 / math.sqrt(d))
        w[b + "ff_out.weight"] = normal((d, m), 1 / math.sqrt(m))
    w[p + "ln_f.weight"] = normal((d,), 0.1, 1.0)
    w[p + "ff_out.weight"] = normal((V, d), a.logit_std / math.sqrt(d))
    return w


def boost_rows(a, cfg, w):
    """Make eos and the mask id the argmax at a few answer positions (see --eos-scale, --mask-boost).
    The mask id's head row gets mask_boost * the unit mean direction of the final-norm output at 16
    answer masks after a seeded random prompt (computed on the bf16-rounded weights), so that the
    'a committed mask id stays masked' path of generate() is exercised."""
    sp = special_ids(a.vocab)
    key = "model.transformer.ff_out.weight"
    w[key][sp["eos_token_id"]] *= a.eos_scale
    if a.mask_boost:
        sys.path.insert(0, HERE)
        import ref_llada
        rounded = {k: S.bf16_bits_to_f32(S.f32_to_bf16_bits(v)) if a.dtype == "bf16" else v for k, v in w.items()}
        m = ref_llada.RefLLaDA(None, dtype=torch.float32, cfg=cfg, weights=rounded)
        g = torch.Generator().manual_seed(a.seed + 1)
        ids = torch.cat([torch.randint(0, sp["bos_token_id"], (1, 10), generator=g),
                         torch.full((1, 16), sp["mask_token_id"])], 1)
        h = m.forward(ids)["hidden_states"][-1][0, 10:].mean(0)
        w[key][sp["mask_token_id"]] += a.mask_boost * (h / h.norm()).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--n-heads", type=int, default=2)
    ap.add_argument("--n-layers", type=int, default=2)
    ap.add_argument("--mlp", type=int, default=192)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--qk-scale", type=float, default=3.0, help="q/k weight std * sqrt(d_model)")
    ap.add_argument("--logit-std", type=float, default=3.0, help="head weight std * sqrt(d_model)")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    ap.add_argument("--eos-scale", type=float, default=1.6, help="multiplies the head row of eos/pad")
    ap.add_argument("--mask-boost", type=float, default=1.4,
                    help="adds this times a mean answer-state direction to the head row of the mask id")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.d_model % a.n_heads:
        raise SystemExit("d_model must be a multiple of n_heads")
    if a.vocab < 512:
        raise SystemExit("vocab must be at least 512 (the special ids sit 384..116 below its end)")
    cfg = build_config(a)
    w = build_weights(a)
    boost_rows(a, cfg, w)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    sp = special_ids(a.vocab)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": sp["bos_token_id"], "eos_token_id": sp["eos_token_id"],
                   "pad_token_id": sp["pad_token_id"], "mask_token_id": sp["mask_token_id"]}, f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out, "special_ids.json"), "w") as f:
        json.dump({"vocab_size": a.vocab, "tokenizer_length": a.vocab - (REAL_VOCAB - REAL_TOKENIZER_LEN),
                   "ids": sp, "real_ids": REAL_SPECIAL, "real_vocab_size": REAL_VOCAB}, f, indent=2)
        f.write("\n")
    st = {"bf16": "BF16", "f32": "F32"}[a.dtype]
    S.write_folder(a.out, w, st, a.shards)
    with open(os.path.join(a.out, "params.txt"), "w") as f:
        for k in sorted(w):
            f.write(f"{k}\t{tuple(w[k].shape)}\t{ {'bf16': 'bfloat16', 'f32': 'float32'}[a.dtype]}\n")
    n = sum(int(v.size) for v in w.values())
    print(f"wrote {a.out}: llada, {len(w)} tensors, {n} parameters, {st}, {max(a.shards, 1)} file(s); "
          f"special ids {sp}")


if __name__ == "__main__":
    main()
