"""The toy LLaDA-V's shape, initial weights and export to the published LLaDA-V layout
(model_type "llava_llada", LLaMA-named LLaDA LM, model.vision_tower.vision_tower.*, mm_projector,
image_newline; the SigLIP tower's own folder beside the weights, as mm_vision_tower names it).
The architecture is tools/llada_v_ref/model.py's, checked against the original code."""
import json
import math
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import bpe  # noqa: E402
import llada_v_data  # noqa: E402
from dimple_ref import safetensors_io as S  # noqa: E402
from llada_v_ref import model as M  # noqa: E402

TOWER_DIR = "siglip-shapes"
# LLaDA-V at the width of models/dimple-shapes: LM hidden 128 (MHA: LLaDA has no grouped KV heads),
# 3 layers; a SigLIP tower of hidden 64 and 4 layers, of which LLaDA-V keeps 3. The image's rows:
# the 384x384 tile's 27x27 map max-pooled 2x2 without the base view (mm_patch_merge_type
# "spatial_maxpool2x2_nobase", a merge LLaDA-V's code offers): 169 rows a picture instead of the
# published "spatial_unpad"'s 1121-1485, which made a step ~2.5x dearer (0.9 s against 0.36) and,
# beside dimple-shapes' 36-64 image rows, measured the number of rows as much as the kind of model.
SHAPE = dict(hidden=128, intermediate=384, layers=3, heads=4, rope_theta=10000.0,
             tower_hidden=64, tower_intermediate=192, tower_layers=4, tower_heads=2,
             merge="spatial_maxpool2x2_nobase")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def tower_config(shape):
    return {"architectures": ["SiglipVisionModel"], "model_type": "siglip_vision_model",
            "hidden_size": shape["tower_hidden"], "intermediate_size": shape["tower_intermediate"],
            "num_hidden_layers": shape["tower_layers"], "num_attention_heads": shape["tower_heads"],
            "num_channels": 3, "image_size": M.CROP, "patch_size": M.PATCH, "hidden_act": "gelu_pytorch_tanh",
            "layer_norm_eps": 1e-6, "attention_dropout": 0.0, "torch_dtype": "bfloat16"}


def config(tok, shape=SHAPE):
    """config.json: LLaDA-V's keys (tools/llada/make_tiny_llada_v.py), the toy's sizes and ids."""
    sp = tok.special
    vocab = sp["<|startoftext|>"] + (126464 - 126080)   # the specials sit at LLaDA's distance from the end
    return {
        "architectures": ["LlavaLLaDAModelLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": sp["<|startoftext|>"], "eos_token_id": sp["<|endoftext|>"],
        "mask_token_id": sp["<|mdm_mask|>"], "hidden_act": "silu", "hidden_size": shape["hidden"],
        "initializer_range": 0.02, "intermediate_size": shape["intermediate"], "max_position_embeddings": 8192,
        "model_type": "llava_llada", "num_attention_heads": shape["heads"], "num_hidden_layers": shape["layers"],
        "num_key_value_heads": shape["heads"], "pretraining_tp": 1, "rms_norm_eps": 1e-5, "rope_scaling": None,
        "rope_theta": shape["rope_theta"], "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "use_cache": False, "vocab_size": vocab, "mm_vision_tower": TOWER_DIR, "mm_projector_type": "mlp2x_gelu",
        "mm_hidden_size": shape["tower_hidden"], "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
        "mm_patch_merge_type": shape["merge"], "image_aspect_ratio": "anyres_max_4",
        "image_grid_pinpoints": llada_v_data.PINPOINTS, "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False, "mm_newline_position": "one_token", "mm_spatial_pool_mode": "bilinear",
        "mm_resampler_type": None, "tokenizer_model_max_length": 8192, "tokenizer_padding_side": "right",
        "use_mm_proj": True, "vision_tower_pretrained": None,
    }


def shapes_of(cfg, tcfg):
    H, I, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    C, CI = tcfg["hidden_size"], tcfg["intermediate_size"]
    t = M.TOWER
    out = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H),
           t + "embeddings.patch_embedding.weight": (C, 3, M.PATCH, M.PATCH),
           t + "embeddings.patch_embedding.bias": (C,), t + "embeddings.position_embedding.weight": (M.SIDE ** 2, C),
           t + "post_layernorm.weight": (C,), t + "post_layernorm.bias": (C,),
           "model.mm_projector.0.weight": (H, C), "model.mm_projector.0.bias": (H,),
           "model.mm_projector.2.weight": (H, H), "model.mm_projector.2.bias": (H,), "model.image_newline": (H,)}
    for i in range(L):
        p = f"model.layers.{i}."
        out |= {p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H), p + "mlp.down_proj.weight": (H, I)}
        out |= {p + f"self_attn.{x}_proj.weight": (H, H) for x in "qkvo"}
    for k in range(tcfg["num_hidden_layers"] - 1):
        p = f"{t}encoder.layers.{k}."
        out |= {p + f"{n}.{x}": (C,) for n in ("layer_norm1", "layer_norm2") for x in ("weight", "bias")}
        out |= {p + f"self_attn.{x}_proj.weight": (C, C) for x in ("q", "k", "v", "out")}
        out |= {p + f"self_attn.{x}_proj.bias": (C,) for x in ("q", "k", "v", "out")}
        out |= {p + "mlp.fc1.weight": (CI, C), p + "mlp.fc1.bias": (CI,), p + "mlp.fc2.weight": (C, CI),
                p + "mlp.fc2.bias": (C,)}
    return out


def init_weights(cfg, tcfg, seed):
    """normal(0, 0.02) matrices (residual outputs scaled by 1/sqrt(2 x depth)), zero biases, unit
    norms, zero-mean patch filters (as checkpoint.init_weights: the world's light backgrounds)."""
    g = torch.Generator().manual_seed(seed)
    L, TL = cfg["num_hidden_layers"], tcfg["num_hidden_layers"] - 1
    w = {}
    for name, shape in sorted(shapes_of(cfg, tcfg).items()):
        if name.endswith("norm.weight") or "layernorm" in name or "layer_norm" in name and name.endswith("weight"):
            t = torch.ones(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            std = 0.02
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                std /= math.sqrt(2 * L)
            elif name.endswith(("out_proj.weight", "fc2.weight")):
                std /= math.sqrt(2 * TL)
            t = torch.randn(shape, generator=g) * std
        if name.endswith("patch_embedding.weight"):
            flat = t.view(shape[0], -1)
            flat -= flat.mean(1, keepdim=True)
        w[name] = torch.nn.Parameter(t)
    return w


class Model:
    """What objectives and training need: the weights, the sizes and the special ids."""

    def __init__(self, cfg, tcfg, w):
        self.cfg, self.tcfg, self.w = cfg, tcfg, w
        self.sizes = M.Sizes(cfg, tcfg)
        self.mask_id, self.pad_id = cfg["mask_token_id"], cfg["eos_token_id"]


# The tower's config of this run (fresh_model sets it): config.json names the tower's folder only.
_tower_config = None


def model_of(cfg, w):
    return Model(cfg, _tower_config, w)


def fresh_model(tokenizer_dir, shape_json, seed):
    tok = bpe.Tokenizer(tokenizer_dir)
    shape = dict(SHAPE, **json.loads(shape_json)) if shape_json else SHAPE
    cfg, tcfg = config(tok, shape), tower_config(shape)
    global _tower_config
    _tower_config = tcfg
    w = init_weights(cfg, tcfg, seed)
    return tok, cfg, w, Model(cfg, tcfg, w)


def export(out, cfg, w, tokenizer_dir, dtype="BF16"):
    """The model folder: config, generation config, weights, tokenizer, and the tower's folder
    (its config and a full tower: the kept layers' values, then the last layer and the pooling head
    that LLaDA-V drops, as zeros: never computed, present so that SigLipVisionModel loads)."""
    os.makedirs(out, exist_ok=True)
    tcfg = _tower_config
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"]}, f, indent=2)
    arrays = {k: v.detach().float().cpu().numpy() for k, v in w.items()}
    S.write_folder(out, arrays, dtype, 1)
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(out, name))
    tdir = os.path.join(out, TOWER_DIR)
    os.makedirs(tdir, exist_ok=True)
    with open(os.path.join(tdir, "config.json"), "w") as f:
        json.dump(tcfg, f, indent=2)
    tower = {k[len("model.vision_tower.vision_tower."):]: v for k, v in arrays.items() if k.startswith(M.TOWER)}
    full = dict(tcfg, num_hidden_layers=tcfg["num_hidden_layers"] + 1)   # shapes of the dropped layer
    C, CI = tcfg["hidden_size"], tcfg["intermediate_size"]
    last = f"vision_model.encoder.layers.{tcfg['num_hidden_layers'] - 1}."
    for name, shape in shapes_of(dict(cfg, num_hidden_layers=0), full).items():
        if name.startswith(M.TOWER + last[len("vision_model."):]):
            tower["vision_model." + name[len(M.TOWER):]] = torch.zeros(shape).numpy()
    head = {"probe": (1, 1, C), "attention.in_proj_weight": (3 * C, C), "attention.in_proj_bias": (3 * C,),
            "attention.out_proj.weight": (C, C), "attention.out_proj.bias": (C,), "layernorm.weight": (C,),
            "layernorm.bias": (C,), "mlp.fc1.weight": (CI, C), "mlp.fc1.bias": (CI,), "mlp.fc2.weight": (C, CI),
            "mlp.fc2.bias": (C,)}
    tower |= {"vision_model.head." + k: torch.zeros(s).numpy() for k, s in head.items()}
    S.write_folder(tdir, tower, dtype, 1)
