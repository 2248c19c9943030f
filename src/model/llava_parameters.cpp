#include "model/llava_parameters.h"

#include <string>

namespace dimple {

std::vector<ParameterSpec> llava_vision_parameters(const LlavaVisionConfig& config, int64_t lm_hidden,
                                                   int tower_layers) {
    const SiglipConfig& t = config.tower;
    const int64_t H = t.hidden_size, I = t.intermediate_size, P = t.patch_size;
    std::vector<ParameterSpec> out;
    auto add = [&](const std::string& name, Shape shape, Component c, bool linear = false) {
        out.push_back({name, std::move(shape), c, linear});
    };
    const std::string e = std::string(kSiglipPrefix) + "embeddings.";
    add(e + "patch_embedding.weight", {H, 3, P, P}, Component::Vision, true);  // repacked as a Linear
    add(e + "patch_embedding.bias", {H}, Component::Vision);
    add(e + "position_embedding.weight", {kLlavaPatches, H}, Component::Vision);
    for (int k = 0; k < tower_layers; ++k) {
        const std::string p = siglip_layer_prefix(k);
        for (const char* norm : {"layer_norm1", "layer_norm2"}) {
            add(p + norm + ".weight", {H}, Component::Vision);
            add(p + norm + ".bias", {H}, Component::Vision);
        }
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(p + "self_attn." + proj + ".weight", {H, H}, Component::Vision, true);
            add(p + "self_attn." + proj + ".bias", {H}, Component::Vision);
        }
        add(p + "mlp.fc1.weight", {I, H}, Component::Vision, true);
        add(p + "mlp.fc1.bias", {I}, Component::Vision);
        add(p + "mlp.fc2.weight", {H, I}, Component::Vision, true);
        add(p + "mlp.fc2.bias", {H}, Component::Vision);
    }
    add(std::string(kSiglipPrefix) + "post_layernorm.weight", {H}, Component::Vision);
    add(std::string(kSiglipPrefix) + "post_layernorm.bias", {H}, Component::Vision);
    const std::string m = kProjectorPrefix;
    add(m + "0.weight", {lm_hidden, config.mm_hidden_size}, Component::Projector, true);
    add(m + "0.bias", {lm_hidden}, Component::Projector);
    add(m + "2.weight", {lm_hidden, lm_hidden}, Component::Projector, true);
    add(m + "2.bias", {lm_hidden}, Component::Projector);
    add(kImageNewline, {lm_hidden}, Component::Projector);
    return out;
}

}  // namespace dimple
