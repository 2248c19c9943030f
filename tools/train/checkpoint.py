"""The trained model's shape, its initial weights, and export to the Hugging Face folder the engine
loads. The architecture is the reference's (tools/dimple_ref/model.py); the config is written by
tools/make_tiny_model.py's build_config, with the special ids of the shapes tokenizer."""
import argparse
import json
import math
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bpe  # noqa: E402
import data  # noqa: E402
import make_tiny_model  # noqa: E402
from dimple_ref import model as M  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402

# The model of models/dimple-shapes (make_tiny_model.py's flags, so the config is written one way).
# Small enough that a CPU run reaches the point where the language model starts to read the image
# (in a first run with hidden 192 and 4 layers it still ignored the image after 400 steps of 32).
SHAPE = dict(hidden=128, intermediate=384, layers=3, heads=4, kv_heads=2, mrope="4,6,6",
             vision_depth=3, vision_hidden=64, vision_heads=2, vision_intermediate=192,
             fullatt="1,2", out_hidden=128, rope_theta=10000.0)
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")


def config(tok, shape=SHAPE):
    """config.json for a model over tokenizer `tok` (special ids from its added tokens)."""
    vocab = len(tok.vocab) + len(tok.special)
    a = argparse.Namespace(dream=False, dtype="bf16", vocab=vocab, **shape)
    cfg = make_tiny_model.build_config(a)
    qwen_first = min(make_tiny_model.QWEN_IDS.values())
    first_added = min(tok.special.values())
    for key, qwen_id in make_tiny_model.QWEN_IDS.items():
        cfg[key] = first_added + qwen_id - qwen_first
    return cfg


def init_weights(cfg, seed):
    """Trainable f32 parameters: normal(0, 0.02) matrices, residual outputs scaled down by depth,
    zero biases, unit norms (GPT-2 style; the reference's names and shapes)."""
    g = torch.Generator().manual_seed(seed)
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    L, nh, nkv = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    kv = nkv * (H // nh)
    v = cfg["vision_config"]
    C, VI, O, D = v["hidden_size"], v["intermediate_size"], v["out_hidden_size"], v["depth"]
    shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H),
              "visual.patch_embed.proj.weight": (C, 3, 2, 14, 14), "visual.merger.ln_q.weight": (C,),
              "visual.merger.mlp.0.weight": (4 * C, 4 * C), "visual.merger.mlp.0.bias": (4 * C,),
              "visual.merger.mlp.2.weight": (O, 4 * C), "visual.merger.mlp.2.bias": (O,),
              "img_projector.linear_1.weight": (H, O), "img_projector.linear_1.bias": (H,),
              "img_projector.linear_2.weight": (H, H), "img_projector.linear_2.bias": (H,)}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes |= {p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                   p + "self_attn.q_proj.weight": (H, H), p + "self_attn.q_proj.bias": (H,),
                   p + "self_attn.k_proj.weight": (kv, H), p + "self_attn.k_proj.bias": (kv,),
                   p + "self_attn.v_proj.weight": (kv, H), p + "self_attn.v_proj.bias": (kv,),
                   p + "self_attn.o_proj.weight": (H, H), p + "mlp.gate_proj.weight": (I, H),
                   p + "mlp.up_proj.weight": (I, H), p + "mlp.down_proj.weight": (H, I)}
    for i in range(D):
        p = f"visual.blocks.{i}."
        shapes |= {p + "norm1.weight": (C,), p + "norm2.weight": (C,),
                   p + "attn.qkv.weight": (3 * C, C), p + "attn.qkv.bias": (3 * C,),
                   p + "attn.proj.weight": (C, C), p + "attn.proj.bias": (C,),
                   p + "mlp.gate_proj.weight": (VI, C), p + "mlp.gate_proj.bias": (VI,),
                   p + "mlp.up_proj.weight": (VI, C), p + "mlp.up_proj.bias": (VI,),
                   p + "mlp.down_proj.weight": (C, VI), p + "mlp.down_proj.bias": (C,)}
    w = {}
    for name, shape in sorted(shapes.items()):
        if "norm" in name or name.endswith("ln_q.weight"):
            t = torch.ones(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            std = 0.02
            if name.endswith(("o_proj.weight", "down_proj.weight", "attn.proj.weight")):
                std /= math.sqrt(2 * (L if name.startswith("model.") else D))
            t = torch.randn(shape, generator=g) * std
        if name == "visual.patch_embed.proj.weight":
            # Zero-mean filters: the world's light backgrounds give every patch the same large mean
            # (normalized pixels average ~1.6, spread ~0.45), which a random filter turns into one
            # direction shared by all image tokens; without it the shapes dominate the features.
            flat = t.view(shape[0], -1)
            flat -= flat.mean(1, keepdim=True)
        w[name] = torch.nn.Parameter(t)
    return w


def model_of(cfg, w):
    return M.Model.from_weights(cfg, w)


def fresh_model(tokenizer_dir, shape_json, seed):
    """(tokenizer, config, initial weights, reference model over them) of a training run: the
    shapes tokenizer, SHAPE with the run's JSON overrides, weights from `seed`."""
    tok = bpe.Tokenizer(tokenizer_dir)
    shape = dict(SHAPE, **json.loads(shape_json)) if shape_json else SHAPE
    cfg = config(tok, shape)
    w = init_weights(cfg, seed)
    return tok, cfg, w, model_of(cfg, w)


def export(out, cfg, w, tokenizer_dir, dtype="BF16"):
    """Writes the Hugging Face folder: config, weights, generation and preprocessor configs, tokenizer."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    gen = {k: cfg[k] for k in ("bos_token_id", "eos_token_id", "mask_token_id", "pad_token_id")}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    pre = {"do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
           "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "DimpleImageProcessor",
           "image_std": [0.26862954, 0.26130258, 0.27577711], "max_pixels": data.MAX_PIXELS,
           "merge_size": 2, "min_pixels": data.MIN_PIXELS, "patch_size": 14, "resample": 3,
           "rescale_factor": 1 / 255, "temporal_patch_size": 2,
           "size": {"max_pixels": data.MAX_PIXELS, "min_pixels": data.MIN_PIXELS}}
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    S.write_folder(out, {k: v.detach().float().cpu().numpy() for k, v in w.items()}, dtype, 1)
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(out, name))
