#!/usr/bin/python3
"""Write a random tiny LLaDA-V checkpoint (model_type "llava_llada") in the LLaVA-NeXT layout.

Usage: /usr/bin/python3 tools/llada/make_tiny_llada_v.py OUT_DIR [--seed 5]

OUT_DIR/model/      the LLaDA-V folder: config.json (the keys of llada_v_prepare/files/config.json plus
                    the multimodal keys scripts/llada_v_finetune.sh and train.py write), bf16
                    safetensors in 2 shards + index, generation_config.json, params.txt
OUT_DIR/siglip-tiny/ the vision tower folder `SigLipVisionModel.from_pretrained` reads (the real
                    model names the hub's siglip2-so400m-patch14-384 in mm_vision_tower); it holds
                    ALL tower layers and the pooling head, the model folder the tower without its last
                    layer and without the head (what LLaDA-V keeps), with the same values.

Sizes: LM hidden 16, intermediate 48, 2 layers, 2 heads (head_dim 8), vocab 126464 (the REAL
vocabulary size and special ids: generate_with_embeds hard-codes 126080, 126081, 126346, 126347);
tower hidden 32, intermediate 64, 3 layers (2 used), 2 heads, image 384, patch 14 (729 patches: the
code asserts it); projector mlp2x_gelu 32 -> 16 -> 16; image_newline [16].

Weights are uniform draws from an integer hash (splitmix64 of name, seed and index), so the folder
is reproducible bit for bit on any machine with numpy; the golden folder records the SHA-256 of
every file. The head row of <|eot_id|> 126348 is enlarged so that generation meets the stop string.
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from dimple_ref import safetensors_io as S  # noqa: E402

VOCAB = 126464
IDS = {"bos": 126080, "eos": 126081, "mask": 126336, "start_header": 126346, "end_header": 126347,
       "eot": 126348}


def uniform(seed, name, shape, std, mean=0.0):
    """float32 array: mean + std * sqrt(12) * (u - 1/2), u = 24-bit splitmix64 uniforms."""
    n = int(np.prod(shape)) if shape else 1
    key = int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little")
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(key)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24) + 2.0 ** -25
    return (mean + std * math.sqrt(12.0) * (u - 0.5)).astype(np.float32).reshape(shape)


def tower_weights(seed, C, I, L, heads):
    w = {}
    p = "vision_model."
    w[p + "embeddings.patch_embedding.weight"] = uniform(seed, "patch_w", (C, 3, 14, 14), 1 / math.sqrt(3 * 14 * 14))
    w[p + "embeddings.patch_embedding.bias"] = uniform(seed, "patch_b", (C,), 0.1)
    w[p + "embeddings.position_embedding.weight"] = uniform(seed, "pos", (729, C), 0.5)
    for k in range(L):
        b = f"{p}encoder.layers.{k}."
        for ln in ("layer_norm1", "layer_norm2"):
            w[b + ln + ".weight"] = uniform(seed, b + ln + "w", (C,), 0.1, 1.0)
            w[b + ln + ".bias"] = uniform(seed, b + ln + "b", (C,), 0.1)
        for pr, std in (("q_proj", 2.0), ("k_proj", 2.0), ("v_proj", 1.0), ("out_proj", 1.0)):
            w[b + f"self_attn.{pr}.weight"] = uniform(seed, b + pr + "w", (C, C), std / math.sqrt(C))
            w[b + f"self_attn.{pr}.bias"] = uniform(seed, b + pr + "b", (C,), 0.1)
        w[b + "mlp.fc1.weight"] = uniform(seed, b + "fc1w", (I, C), 1 / math.sqrt(C))
        w[b + "mlp.fc1.bias"] = uniform(seed, b + "fc1b", (I,), 0.1)
        w[b + "mlp.fc2.weight"] = uniform(seed, b + "fc2w", (C, I), 1 / math.sqrt(I))
        w[b + "mlp.fc2.bias"] = uniform(seed, b + "fc2b", (C,), 0.1)
    w[p + "post_layernorm.weight"] = uniform(seed, "post_ln_w", (C,), 0.1, 1.0)
    w[p + "post_layernorm.bias"] = uniform(seed, "post_ln_b", (C,), 0.1)
    h = p + "head."
    w[h + "probe"] = uniform(seed, "probe", (1, 1, C), 1.0)
    w[h + "attention.in_proj_weight"] = uniform(seed, "head_in_w", (3 * C, C), 1 / math.sqrt(C))
    w[h + "attention.in_proj_bias"] = uniform(seed, "head_in_b", (3 * C,), 0.1)
    w[h + "attention.out_proj.weight"] = uniform(seed, "head_out_w", (C, C), 1 / math.sqrt(C))
    w[h + "attention.out_proj.bias"] = uniform(seed, "head_out_b", (C,), 0.1)
    w[h + "layernorm.weight"] = uniform(seed, "head_ln_w", (C,), 0.1, 1.0)
    w[h + "layernorm.bias"] = uniform(seed, "head_ln_b", (C,), 0.1)
    w[h + "mlp.fc1.weight"] = uniform(seed, "head_fc1w", (I, C), 1 / math.sqrt(C))
    w[h + "mlp.fc1.bias"] = uniform(seed, "head_fc1b", (I,), 0.1)
    w[h + "mlp.fc2.weight"] = uniform(seed, "head_fc2w", (C, I), 1 / math.sqrt(I))
    w[h + "mlp.fc2.bias"] = uniform(seed, "head_fc2b", (C,), 0.1)
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--eot-scale", type=float, default=1.5)
    a = ap.parse_args()
    H, I, L, NH = 16, 48, 2, 2
    C, CI, CL, CH = 32, 64, 3, 2
    seed = a.seed
    mdir, tdir = os.path.join(a.out, "model"), os.path.join(a.out, "siglip-tiny")
    os.makedirs(mdir, exist_ok=True)
    os.makedirs(tdir, exist_ok=True)
    tcfg = {"architectures": ["SiglipVisionModel"], "model_type": "siglip_vision_model", "hidden_size": C,
            "intermediate_size": CI, "num_hidden_layers": CL, "num_attention_heads": CH, "num_channels": 3,
            "image_size": 384, "patch_size": 14, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6,
            "attention_dropout": 0.0, "torch_dtype": "bfloat16"}
    with open(os.path.join(tdir, "config.json"), "w") as f:
        json.dump(tcfg, f, indent=2)
        f.write("\n")
    tw = tower_weights(seed, C, CI, CL, CH)
    S.write_folder(tdir, tw, "BF16", 1)

    pinpoints = [[384 * i, 384 * j] for i in range(1, 7) for j in range(1, 7)]
    cfg = {
        "architectures": ["LlavaLLaDAModelLM"],
        "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 126081,
        "hidden_act": "silu", "hidden_size": H, "initializer_range": 0.02, "intermediate_size": I,
        "max_position_embeddings": 16384, "model_type": "llava_llada", "num_attention_heads": NH,
        "num_hidden_layers": L, "num_key_value_heads": NH, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
        "rope_scaling": None, "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "transformers_version": "4.40.0.dev0", "use_cache": False, "vocab_size": VOCAB,
        "mm_vision_tower": "google/siglip2-so400m-patch14-384", "mm_projector_type": "mlp2x_gelu",
        "mm_hidden_size": C, "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
        "mm_patch_merge_type": "spatial_unpad", "image_aspect_ratio": "anyres_max_4",
        "image_grid_pinpoints": pinpoints, "mm_use_im_start_end": False, "mm_use_im_patch_token": False,
        "mm_newline_position": "one_token", "mm_spatial_pool_mode": "bilinear", "mm_resampler_type": None,
        "tokenizer_model_max_length": 8192, "tokenizer_padding_side": "right", "use_mm_proj": True,
        "vision_tower_pretrained": None,
    }
    with open(os.path.join(mdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(mdir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 126080, "eos_token_id": 126081}, f, indent=2)
        f.write("\n")
    w = {"model.embed_tokens.weight": uniform(seed, "embed", (VOCAB, H), 1.0)}
    qk = 3.0 / math.sqrt(H)
    for i in range(L):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = uniform(seed, p + "ln1", (H,), 0.1, 1.0)
        w[p + "post_attention_layernorm.weight"] = uniform(seed, p + "ln2", (H,), 0.1, 1.0)
        w[p + "self_attn.q_proj.weight"] = uniform(seed, p + "q", (H, H), qk)
        w[p + "self_attn.k_proj.weight"] = uniform(seed, p + "k", (H, H), qk)
        w[p + "self_attn.v_proj.weight"] = uniform(seed, p + "v", (H, H), 1 / math.sqrt(H))
        w[p + "self_attn.o_proj.weight"] = uniform(seed, p + "o", (H, H), 1 / math.sqrt(H))
        w[p + "mlp.gate_proj.weight"] = uniform(seed, p + "gate", (I, H), 1 / math.sqrt(H))
        w[p + "mlp.up_proj.weight"] = uniform(seed, p + "up", (I, H), 1 / math.sqrt(H))
        w[p + "mlp.down_proj.weight"] = uniform(seed, p + "down", (H, I), 1 / math.sqrt(I))
    w["model.norm.weight"] = uniform(seed, "norm", (H,), 0.1, 1.0)
    head = uniform(seed, "lm_head", (VOCAB, H), 3.0 / math.sqrt(H))
    head[IDS["eot"]] *= a.eot_scale
    w["lm_head.weight"] = head
    pv = "model.vision_tower.vision_tower."
    for k, v in tw.items():
        if ".head." in k or f"encoder.layers.{CL - 1}." in k:
            continue  # LLaDA-V deletes the last layer and replaces the head by an identity
        w[pv + k] = v
    w["model.mm_projector.0.weight"] = uniform(seed, "proj0w", (H, C), 1 / math.sqrt(C))
    w["model.mm_projector.0.bias"] = uniform(seed, "proj0b", (H,), 0.1)
    w["model.mm_projector.2.weight"] = uniform(seed, "proj2w", (H, H), 1 / math.sqrt(H))
    w["model.mm_projector.2.bias"] = uniform(seed, "proj2b", (H,), 0.1)
    w["model.image_newline"] = uniform(seed, "newline", (H,), 1.0)
    S.write_folder(mdir, w, "BF16", 2)
    with open(os.path.join(mdir, "params.txt"), "w") as f:
        for k in sorted(w):
            f.write(f"{k}\t{tuple(w[k].shape)}\tbfloat16\n")
    n = sum(int(v.size) for v in w.values())
    print(f"wrote {a.out}: llava_llada, {len(w)} tensors, {n} parameters (tower folder {len(tw)} tensors)")


if __name__ == "__main__":
    main()
