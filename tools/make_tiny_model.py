#!/usr/bin/python3
"""Write a random tiny Dimple (or Dream) checkpoint in the real Hugging Face layout.

Usage: /usr/bin/python3 tools/make_tiny_model.py OUT_DIR [--dream] [--dtype bf16|f32|f16] [--shards N]
           [--hidden 64 --intermediate 128 --layers 2 --heads 4 --kv-heads 2 --vocab 2048
            --mrope 2,3,3 --vision-depth 4 --vision-hidden 32 --vision-heads 2
            --vision-intermediate 64 --fullatt 1,3 --out-hidden 64 --seed 1 --logit-std 3]

Writes config.json, model.safetensors (or N shards + model.safetensors.index.json),
generation_config.json, preprocessor_config.json and params.txt. Special ids are remapped into the
top of the vocabulary like goldens/tiny-a: pad, bos, eos, vision_start, vision_end, vision_pad,
image_pad, video_pad, mask = vocab-48 .. vocab-40.

Weights are normal draws scaled so that the model is not near-uniform: q/k weights and biases are
large enough for peaky, position dependent attention, and lm_head is scaled so that logits have a
standard deviation of about --logit-std, which gives a spread of top-1 probabilities (some
positions confident, many not). A short report of those statistics is printed at the end.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dimple_ref import safetensors_io as S  # noqa: E402

SPECIAL_ORDER = ["pad_token_id", "bos_token_id", "eos_token_id", "vision_start_token_id",
                 "vision_end_token_id", "vision_token_id", "image_token_id", "video_token_id",
                 "mask_token_id"]


# The real Qwen2 / Dimple ids, for a tiny model that uses the real tokenizer (--qwen-ids).
QWEN_IDS = {"pad_token_id": 151643, "bos_token_id": 151644, "eos_token_id": 151645,
            "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
            "image_token_id": 151655, "video_token_id": 151656, "mask_token_id": 151666}
USE_QWEN_IDS = False


def special_ids(vocab):
    if USE_QWEN_IDS:
        return dict(QWEN_IDS)
    return {k: vocab - 48 + i for i, k in enumerate(SPECIAL_ORDER)}


def build_config(a):
    sp = special_ids(a.vocab)
    head_dim = a.hidden // a.heads
    cfg = {
        "architectures": ["DreamModel" if a.dream else "DimpleModel"],
        "attention_dropout": 0.0,
        "hidden_act": "silu",
        "hidden_size": a.hidden,
        "initializer_range": 0.02,
        "intermediate_size": a.intermediate,
        "max_position_embeddings": 32768,
        "max_window_layers": 28,
        "model_type": "Dream" if a.dream else "dimple",
        "num_attention_heads": a.heads,
        "num_hidden_layers": a.layers,
        "num_key_value_heads": a.kv_heads,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": a.rope_theta,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[a.dtype],
        "use_cache": False,
        "use_sliding_window": False,
        "vocab_size": a.vocab,
    }
    cfg.update(sp)
    if not a.dream:
        sec = [int(v) for v in a.mrope.split(",")]
        if sum(sec) * 2 != head_dim:
            raise SystemExit(f"mrope section {sec} must sum to head_dim/2 = {head_dim // 2}")
        cfg["mrope_section"] = sec
        cfg["full_attn_mask"] = True
        cfg["vision_config"] = {
            "depth": a.vision_depth,
            "fullatt_block_indexes": [int(v) for v in a.fullatt.split(",") if v != ""],
            "hidden_act": "silu",
            "hidden_size": a.vision_hidden,
            "in_channels": 3,
            "intermediate_size": a.vision_intermediate,
            "model_type": "dimple",
            "num_heads": a.vision_heads,
            "out_hidden_size": a.out_hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "tokens_per_second": 2,
            "window_size": 112,
        }
    else:
        for k in ("vision_start_token_id", "vision_end_token_id", "vision_token_id", "image_token_id",
                  "video_token_id"):
            cfg.pop(k)
    return dict(sorted(cfg.items()))


def build_weights(a, cfg):
    g = torch.Generator().manual_seed(a.seed)

    def normal(shape, std, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).numpy().astype(np.float32)

    def norm_w(n):
        return normal((n,), 0.1, 1.0)

    H, I, V = a.hidden, a.intermediate, a.vocab
    hd = H // a.heads
    kv = a.kv_heads * hd
    w = {"model.embed_tokens.weight": normal((V, H), 1.0)}
    qk = a.qk_scale / math.sqrt(H)
    for i in range(a.layers):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_w(H)
        w[p + "post_attention_layernorm.weight"] = norm_w(H)
        w[p + "self_attn.q_proj.weight"] = normal((H, H), qk)
        w[p + "self_attn.q_proj.bias"] = normal((H,), 0.3)
        w[p + "self_attn.k_proj.weight"] = normal((kv, H), qk)
        w[p + "self_attn.k_proj.bias"] = normal((kv,), 0.3)
        w[p + "self_attn.v_proj.weight"] = normal((kv, H), 1 / math.sqrt(H))
        w[p + "self_attn.v_proj.bias"] = normal((kv,), 0.1)
        w[p + "self_attn.o_proj.weight"] = normal((H, H), 1 / math.sqrt(H))
        w[p + "mlp.gate_proj.weight"] = normal((I, H), 1 / math.sqrt(H))
        w[p + "mlp.up_proj.weight"] = normal((I, H), 1 / math.sqrt(H))
        w[p + "mlp.down_proj.weight"] = normal((H, I), 1 / math.sqrt(I))
    w["model.norm.weight"] = norm_w(H)
    w["lm_head.weight"] = normal((V, H), a.logit_std / math.sqrt(H))
    if not a.dream:
        C, VI, O = a.vision_hidden, a.vision_intermediate, a.out_hidden
        w["visual.patch_embed.proj.weight"] = normal((C, 3, 2, 14, 14), 1 / math.sqrt(3 * 2 * 14 * 14))
        for i in range(a.vision_depth):
            p = f"visual.blocks.{i}."
            w[p + "norm1.weight"] = norm_w(C)
            w[p + "norm2.weight"] = norm_w(C)
            w[p + "attn.qkv.weight"] = normal((3 * C, C), 1 / math.sqrt(C))
            w[p + "attn.qkv.bias"] = normal((3 * C,), 0.1)
            w[p + "attn.proj.weight"] = normal((C, C), 1 / math.sqrt(C))
            w[p + "attn.proj.bias"] = normal((C,), 0.1)
            w[p + "mlp.gate_proj.weight"] = normal((VI, C), 1 / math.sqrt(C))
            w[p + "mlp.gate_proj.bias"] = normal((VI,), 0.1)
            w[p + "mlp.up_proj.weight"] = normal((VI, C), 1 / math.sqrt(C))
            w[p + "mlp.up_proj.bias"] = normal((VI,), 0.1)
            w[p + "mlp.down_proj.weight"] = normal((C, VI), 1 / math.sqrt(VI))
            w[p + "mlp.down_proj.bias"] = normal((C,), 0.1)
        w["visual.merger.ln_q.weight"] = norm_w(C)
        w["visual.merger.mlp.0.weight"] = normal((4 * C, 4 * C), 1 / math.sqrt(4 * C))
        w["visual.merger.mlp.0.bias"] = normal((4 * C,), 0.1)
        w["visual.merger.mlp.2.weight"] = normal((O, 4 * C), 1 / math.sqrt(4 * C))
        w["visual.merger.mlp.2.bias"] = normal((O,), 0.1)
        w["img_projector.linear_1.weight"] = normal((H, O), 1 / math.sqrt(O))
        w["img_projector.linear_1.bias"] = normal((H,), 0.1)
        w["img_projector.linear_2.weight"] = normal((H, H), 1 / math.sqrt(H))
        w["img_projector.linear_2.bias"] = normal((H,), 0.1)
    return w


def report(folder, seed):
    """Logit and confidence statistics of the written model on a random prompt + 16 masks."""
    from dimple_ref import model as M
    m = M.Model(folder)
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, m.vocab - 48, (1, 20), generator=g)
    x = torch.cat([ids, torch.full((1, 16), m.mask_id)], dim=1)
    pos, _ = M.get_rope_index(m, x)
    o = M.lm_forward(m, x, pos)
    lg = o["logits"][0]
    p1 = torch.softmax(torch.cat([lg[:1], lg[:-1]])[20:], dim=-1).max(-1)[0]
    print(f"logits std {float(lg.std()):.2f}; answer top-1 probabilities: min {float(p1.min()):.3f} "
          f"median {float(p1.median()):.3f} max {float(p1.max()):.3f}; "
          f"{int((p1 > 0.2).sum())}/16 above 0.2")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--dream", action="store_true", help="Dream text-only checkpoint (no vision)")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32", "f16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--intermediate", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--rope-theta", type=float, default=1e6)
    ap.add_argument("--mrope", default="2,3,3", help="mrope_section, comma separated (sum = head_dim/2)")
    ap.add_argument("--vision-depth", type=int, default=4)
    ap.add_argument("--vision-hidden", type=int, default=32)
    ap.add_argument("--vision-heads", type=int, default=2)
    ap.add_argument("--vision-intermediate", type=int, default=64)
    ap.add_argument("--fullatt", default="1,3", help="fullatt_block_indexes, comma separated")
    ap.add_argument("--out-hidden", type=int, default=64)
    ap.add_argument("--qk-scale", type=float, default=3.0, help="q/k weight std * sqrt(hidden)")
    ap.add_argument("--logit-std", type=float, default=3.0, help="lm_head std * sqrt(hidden)")
    ap.add_argument("--min-pixels", type=int, default=3136)
    ap.add_argument("--max-pixels", type=int, default=200704)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--qwen-ids", action="store_true",
                    help="use the real Qwen2/Dimple special ids (needs --vocab >= 151667) so that the "
                         "real tokenizer files can sit beside the model")
    a = ap.parse_args()
    global USE_QWEN_IDS
    USE_QWEN_IDS = a.qwen_ids
    if a.qwen_ids and a.vocab < 151667:
        raise SystemExit("--qwen-ids needs --vocab of at least 151667")
    torch.set_num_threads(1)
    if a.hidden % a.heads or a.heads % a.kv_heads:
        raise SystemExit("hidden must be a multiple of heads, heads a multiple of kv-heads")
    if a.vocab < 64:
        raise SystemExit("vocab must be at least 64 (special ids live in the top 48)")
    cfg = build_config(a)
    w = build_weights(a, cfg)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    sp = special_ids(a.vocab)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({k: sp[k] for k in ("bos_token_id", "eos_token_id", "mask_token_id", "pad_token_id")},
                  f, indent=2)
    if not a.dream:
        pre = {"do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
               "image_mean": [0.48145466, 0.4578275, 0.40821073],
               "image_processor_type": "DimpleImageProcessor",
               "image_std": [0.26862954, 0.26130258, 0.27577711],
               "max_pixels": a.max_pixels, "merge_size": 2, "min_pixels": a.min_pixels, "patch_size": 14,
               "resample": 3, "rescale_factor": 1 / 255,
               "size": {"max_pixels": a.max_pixels, "min_pixels": a.min_pixels}, "temporal_patch_size": 2}
        with open(os.path.join(a.out, "preprocessor_config.json"), "w") as f:
            json.dump(pre, f, indent=2)
    st_dtype = {"bf16": "BF16", "f16": "F16", "f32": "F32"}[a.dtype]
    S.write_folder(a.out, w, st_dtype, a.shards)
    with open(os.path.join(a.out, "params.txt"), "w") as f:
        for k in sorted(w):
            f.write(f"{k}\t{tuple(w[k].shape)}\t{ {'bf16': 'bfloat16', 'f16': 'float16', 'f32': 'float32'}[a.dtype]}\n")
    n = sum(int(v.size) for v in w.values())
    print(f"wrote {a.out}: {cfg['model_type']}, {len(w)} tensors, {n} parameters, {st_dtype}, "
          f"{max(a.shards, 1)} file(s)")
    report(a.out, a.seed)


if __name__ == "__main__":
    main()
