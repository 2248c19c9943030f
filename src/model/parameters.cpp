#include "model/parameters.h"

#include "model/llava_parameters.h"

namespace dimple {

std::string component_name(Component c) {
    switch (c) {
        case Component::Vision: return "vision";
        case Component::Projector: return "projector";
        case Component::LanguageModel: return "language model";
    }
    return "?";
}

LmTensorNames lm_tensor_names(const ModelConfig& c) {
    LmTensorNames n;
    n.naming = c.naming;
    if (c.naming == TensorNaming::Olmo) {
        n.embed = "model.transformer.wte", n.final_norm = "model.transformer.ln_f", n.head = "model.transformer.ff_out";
    } else {
        n.embed = "model.embed_tokens", n.final_norm = "model.norm", n.head = "lm_head";
    }
    if (c.tie_word_embeddings) n.head = n.embed;
    return n;
}

LayerTensorNames LmTensorNames::layer(int i) const {
    if (naming == TensorNaming::Olmo) {
        const std::string p = "model.transformer.blocks." + std::to_string(i) + ".";
        return {p + "attn_norm", p + "q_proj",  p + "k_proj",  p + "v_proj", p + "attn_out",
                p + "ff_norm",   p + "ff_proj", p + "up_proj", p + "ff_out"};
    }
    const std::string p = "model.layers." + std::to_string(i) + ".";
    return {p + "input_layernorm", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj",
            p + "self_attn.o_proj", p + "post_attention_layernorm", p + "mlp.gate_proj", p + "mlp.up_proj",
            p + "mlp.down_proj"};
}

std::vector<ParameterSpec> expected_parameters(const ModelConfig& c) {
    std::vector<ParameterSpec> out;
    const std::string embedding = lm_tensor_names(c).embed + ".weight";
    auto add = [&](Component comp, std::string name, Shape shape) {
        // Every 2-D ".weight" except the embedding table is a linear layer's, and the patch
        // embedding's Conv3d is one too (stride == kernel).
        const bool linear = name.ends_with(".weight") && name != embedding &&
                            (shape.size() == 2 || name == "visual.patch_embed.proj.weight");
        out.push_back({std::move(name), std::move(shape), comp, linear});
    };
    const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim();
    const int64_t q = int64_t(c.num_heads) * D, kv = int64_t(c.num_kv_heads) * D;
    const auto LM = Component::LanguageModel;
    const LmTensorNames names = lm_tensor_names(c);
    add(LM, names.embed + ".weight", {c.vocab_size, H});
    for (int i = 0; i < c.num_layers; ++i) {
        const LayerTensorNames n = names.layer(i);
        add(LM, n.attn_norm + ".weight", {H});
        add(LM, n.q + ".weight", {q, H});
        if (c.qkv_bias) add(LM, n.q + ".bias", {q});
        add(LM, n.k + ".weight", {kv, H});
        if (c.qkv_bias) add(LM, n.k + ".bias", {kv});
        add(LM, n.v + ".weight", {kv, H});
        if (c.qkv_bias) add(LM, n.v + ".bias", {kv});
        add(LM, n.o + ".weight", {H, q});
        add(LM, n.ffn_norm + ".weight", {H});
        add(LM, n.gate + ".weight", {I, H});
        add(LM, n.up + ".weight", {I, H});
        add(LM, n.down + ".weight", {H, I});
    }
    add(LM, names.final_norm + ".weight", {H});
    if (!c.tie_word_embeddings) add(LM, names.head + ".weight", {c.vocab_size, H});

    if (c.llava) {
        // The original's loader deletes the published tower's last layer before training.
        for (ParameterSpec& p : llava_vision_parameters(*c.llava, H, c.llava->tower.num_hidden_layers - 1))
            out.push_back(std::move(p));
    }
    if (c.vision) {
        const VisionConfig& v = *c.vision;
        const int64_t vh = v.hidden_size, vi = v.intermediate_size;
        const auto VIS = Component::Vision;
        add(VIS, "visual.patch_embed.proj.weight",
            {vh, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
        for (int i = 0; i < v.depth; ++i) {
            const std::string p = "visual.blocks." + std::to_string(i) + ".";
            add(VIS, p + "norm1.weight", {vh});
            add(VIS, p + "norm2.weight", {vh});
            add(VIS, p + "attn.qkv.weight", {3 * vh, vh});
            add(VIS, p + "attn.qkv.bias", {3 * vh});
            add(VIS, p + "attn.proj.weight", {vh, vh});
            add(VIS, p + "attn.proj.bias", {vh});
            add(VIS, p + "mlp.gate_proj.weight", {vi, vh});
            add(VIS, p + "mlp.gate_proj.bias", {vi});
            add(VIS, p + "mlp.up_proj.weight", {vi, vh});
            add(VIS, p + "mlp.up_proj.bias", {vi});
            add(VIS, p + "mlp.down_proj.weight", {vh, vi});
            add(VIS, p + "mlp.down_proj.bias", {vh});
        }
        const int64_t merged = vh * v.spatial_merge_size * v.spatial_merge_size;
        add(VIS, "visual.merger.ln_q.weight", {vh});
        add(VIS, "visual.merger.mlp.0.weight", {merged, merged});
        add(VIS, "visual.merger.mlp.0.bias", {merged});
        add(VIS, "visual.merger.mlp.2.weight", {v.out_hidden_size, merged});
        add(VIS, "visual.merger.mlp.2.bias", {v.out_hidden_size});
        const auto PRJ = Component::Projector;
        add(PRJ, "img_projector.linear_1.weight", {H, v.out_hidden_size});
        add(PRJ, "img_projector.linear_1.bias", {H});
        add(PRJ, "img_projector.linear_2.weight", {H, H});
        add(PRJ, "img_projector.linear_2.bias", {H});
    }
    return out;
}

}  // namespace dimple
