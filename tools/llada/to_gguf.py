#!/usr/bin/python3
"""Writes the language model of a LLaDA-family folder (LLaDA-8B's OLMo tensor names, or LLaDA-V's
LLaMA names: its vision tower and projector are left out) as a bf16 GGUF for llama.cpp's diffusion
tool: the peer of the engine in BENCHMARKS.md ("LLaDA at full size against llama.cpp").

llama.cpp's own converter (convert_hf_to_gguf.py, class LLaDAModel) needs `transformers` for the
vocabulary, which cannot be installed here; this script writes the same metadata keys that class
writes (architecture "llada", non-causal attention, unshifted logits, q/k rows permuted for ggml's
interleaved RoPE, bos added) with llama.cpp's own gguf-py writer, and the vocabulary from the
folder's tokenizer.json (byte-level BPE: tokens, merges, added tokens as control tokens; ids no
token names are "[PAD<i>]" unused tokens, as the converter pads them). Norm weights are stored as
float32 and every matrix as bf16, as the converter's bf16 output type stores them (a float32
folder, such as the tiny test models, stays float32).

    # llama.cpp's sources beside the project (not part of it):
    /usr/bin/python3 tools/llada/to_gguf.py MODEL_DIR OUT.gguf --gguf-py /tmp/llama.cpp/gguf-py
    /tmp/llama.cpp/build/bin/llama-quantize OUT.gguf OUT-q8_0.gguf Q8_0

Reads the safetensors shards through numpy memory maps: nothing but the permuted q/k matrices is
copied, so an 8B folder converts in the memory of one layer.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dimple_ref.safetensors_io import bf16_bits_to_f32, map_folder  # noqa: E402


def as_f32(dtype, a):
    return bf16_bits_to_f32(a) if dtype == "BF16" else a.astype(np.float32)


def language_model_names(cfg):
    """(gguf name, folder name) of every tensor, for LLaDA's OLMo names or LLaDA-V's LLaMA names."""
    olmo = "d_model" in cfg
    layers = cfg["n_layers"] if olmo else cfg["num_hidden_layers"]
    if olmo:
        pairs = [("token_embd", "model.transformer.wte"), ("output_norm", "model.transformer.ln_f"),
                 ("output", "model.transformer.ff_out")]
        per = [("attn_norm", "attn_norm"), ("attn_q", "q_proj"), ("attn_k", "k_proj"), ("attn_v", "v_proj"),
               ("attn_output", "attn_out"), ("ffn_norm", "ff_norm"), ("ffn_gate", "ff_proj"), ("ffn_up", "up_proj"),
               ("ffn_down", "ff_out")]
        prefix = "model.transformer.blocks.%d."
    else:
        pairs = [("token_embd", "model.embed_tokens"), ("output_norm", "model.norm"), ("output", "lm_head")]
        per = [("attn_norm", "input_layernorm"), ("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"),
               ("attn_v", "self_attn.v_proj"), ("attn_output", "self_attn.o_proj"),
               ("ffn_norm", "post_attention_layernorm"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
               ("ffn_down", "mlp.down_proj")]
        prefix = "model.layers.%d."
    for i in range(layers):
        pairs += [("blk.%d.%s" % (i, g), prefix % i + h) for g, h in per]
    return [(g + ".weight", h + ".weight") for g, h in pairs]


def hyperparameters(cfg):
    olmo = "d_model" in cfg
    get = (lambda o, l: cfg[o]) if olmo else (lambda o, l: cfg[l])
    heads = get("n_heads", "num_attention_heads")
    return {
        "width": get("d_model", "hidden_size"), "layers": get("n_layers", "num_hidden_layers"),
        "ffn": get("mlp_hidden_size", "intermediate_size"), "heads": heads,
        "kv_heads": (cfg.get("n_kv_heads") if olmo else cfg.get("num_key_value_heads")) or heads,
        "theta": get("rope_theta", "rope_theta"), "eps": cfg.get("rms_norm_eps", 1e-5),
        "context": get("max_sequence_length", "max_position_embeddings"), "vocab": cfg["vocab_size"],
    }


def permute_rows(w, heads):
    """HF's rotate-half layout -> ggml's interleaved pairs (convert_hf_to_gguf's LLaDAModel.permute)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def vocabulary(model_dir, vocab_size):
    with open(os.path.join(model_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    model = tok["model"]
    if model.get("type") != "BPE":
        sys.exit("to_gguf: only byte-level BPE tokenizers are written (this one is %s)" % model.get("type"))
    names = {i: t for t, i in model["vocab"].items()}
    control = set()
    for a in tok.get("added_tokens", []):
        names[a["id"]] = a["content"]
        control.add(a["id"])
    tokens, types = [], []
    for i in range(vocab_size):
        if i in names:
            tokens.append(names[i])
            types.append(3 if i in control else 1)  # gguf.TokenType.CONTROL / NORMAL
        else:
            tokens.append("[PAD%d]" % i)
            types.append(5)  # UNUSED
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    template = None
    path = os.path.join(model_dir, "tokenizer_config.json")
    if os.path.exists(path):
        with open(path) as f:
            template = json.load(f).get("chat_template")
    return tokens, types, merges, template


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY", "/tmp/llama.cpp/gguf-py"),
                    help="llama.cpp's gguf-py folder (default $GGUF_PY or /tmp/llama.cpp/gguf-py)")
    args = ap.parse_args()
    sys.path.insert(0, args.gguf_py)
    import gguf

    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    hp = hyperparameters(cfg)
    with open(os.path.join(args.model_dir, "generation_config.json")) as f:
        gen = json.load(f)
    special = {"bos": gen.get("bos_token_id", 126080), "eos": gen.get("eos_token_id", 126081), "mask": gen.get("mask_token_id", cfg.get("mask_token_id", 126336))}
    if isinstance(special["eos"], list):
        special["eos"] = special["eos"][0]

    w = gguf.GGUFWriter(args.out, "llada")
    w.add_name(os.path.basename(os.path.normpath(args.model_dir)))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_BF16)
    w.add_context_length(hp["context"])
    w.add_embedding_length(hp["width"])
    w.add_block_count(hp["layers"])
    w.add_feed_forward_length(hp["ffn"])
    w.add_head_count(hp["heads"])
    w.add_head_count_kv(hp["kv_heads"])
    w.add_rope_freq_base(hp["theta"])
    w.add_rope_dimension_count(hp["width"] // hp["heads"])
    w.add_layer_norm_rms_eps(hp["eps"])
    w.add_vocab_size(hp["vocab"])
    w.add_causal_attention(False)
    w.add_diffusion_shift_logits(False)

    tokens, types, merges, template = vocabulary(args.model_dir, hp["vocab"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(special["bos"])
    w.add_eos_token_id(special["eos"])
    w.add_mask_token_id(special["mask"])
    w.add_add_bos_token(True)
    if template:
        w.add_chat_template(template)

    tensors = map_folder(args.model_dir)
    for gname, hname in language_model_names(cfg):
        if hname not in tensors:
            sys.exit("to_gguf: %s has no tensor %s" % (args.model_dir, hname))
        dtype, a = tensors[hname]
        if a.ndim == 1:
            w.add_tensor(gname, as_f32(dtype, a))
            continue
        if gname.endswith("attn_q.weight"):
            a = permute_rows(np.asarray(a), hp["heads"])
        elif gname.endswith("attn_k.weight"):
            a = permute_rows(np.asarray(a), hp["kv_heads"])
        if dtype == "BF16":
            w.add_tensor(gname, a, raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:  # the tiny test models are float32: kept so
            w.add_tensor(gname, as_f32(dtype, a))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    print("wrote %s (%.2f GB)" % (args.out, os.path.getsize(args.out) / 1e9))


if __name__ == "__main__":
    main()
