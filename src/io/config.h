// The model folder's JSON files, parsed and checked: config.json (Dimple, Dream, LLaDA, LLaDA-V),
// generation_config.json and preprocessor_config.json.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "io/llava_config.h"

namespace dimple {

struct VisionConfig {
    int depth = 0, hidden_size = 0, intermediate_size = 0, num_heads = 0;
    int in_channels = 3, patch_size = 14, spatial_merge_size = 2, temporal_patch_size = 2;
    int window_size = 112, out_hidden_size = 0;
    std::vector<int> fullatt_block_indexes;
    std::string hidden_act = "silu";

    int head_dim() const { return hidden_size / num_heads; }
    int patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
};

struct SpecialIds {
    int64_t pad = -1, bos = -1, eos = -1, mask = -1;
    int64_t image = -1, video = -1, vision_start = -1, vision_end = -1, vision = -1;
};

enum class Architecture { Dimple, Dream, Llada, LladaV };

// How a family's language model differs, chosen from config.json: the rest of the engine reads
// these instead of asking which family it runs.
enum class TensorNaming {
    HuggingFace,  // model.layers.{i}.self_attn.q_proj, mlp.gate_proj, model.norm, lm_head (Qwen2, LLaMA)
    Olmo,         // model.transformer.blocks.{i}.q_proj, ff_proj, transformer.ln_f, transformer.ff_out (LLaDA)
};
enum class PositionScheme {
    MRope,       // (t, h, w) ids: image tokens take grid coordinates (Qwen2-VL; text-only = 1-D)
    Sequential,  // one id per row, 0..T-1, image rows included (LLaDA, LLaDA-V)
};

struct ModelConfig {
    Architecture arch = Architecture::Dimple;
    std::string model_type;
    int hidden_size = 0, intermediate_size = 0, num_layers = 0, num_heads = 0, num_kv_heads = 0;
    int vocab_size = 0;
    int64_t max_positions = 32768;  // max_position_embeddings: the longest prompt + answer
    double rms_norm_eps = 1e-6, rope_theta = 10000.0;
    std::array<int, 3> mrope_section{};  // frequencies per t/h/w id; Dream: all t
    std::string hidden_act = "silu";
    bool tie_word_embeddings = false;
    bool qkv_bias = true;             // q, k and v projections carry a bias (Qwen2)
    // Dream/Dimple were AR models: row i-1's logits predict position i. LLaDA's row i scores position i.
    bool shifted_logits = true;
    TensorNaming naming = TensorNaming::HuggingFace;
    PositionScheme positions = PositionScheme::MRope;
    SpecialIds ids;
    std::optional<VisionConfig> vision;        // Qwen2.5-VL tower + Dimple's projector
    std::optional<LlavaVisionConfig> llava;    // SigLIP tower + mlp2x_gelu + anyres layout (LLaDA-V)

    int head_dim() const { return hidden_size / num_heads; }
};

struct PreprocessorConfig {
    int64_t min_pixels = 56 * 56, max_pixels = 28 * 28 * 1280;
    int patch_size = 14, merge_size = 2, temporal_patch_size = 2;
    std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
    std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};
    double rescale_factor = 1.0 / 255.0;
};

// Parses config.json text; `label` names the file in errors. Every field is checked for type,
// range and consistency (e.g. heads dividing hidden size, mrope_section matching head_dim).
// `model_dir` is where a vision tower folder named by the config is looked for (LLaDA-V).
ModelConfig parse_model_config(const std::string& json_text, const std::string& label,
                               const std::string& model_dir = ".");
// The LLaDA families (config_llada.cpp): "llada" in its published OLMo form (d_model, n_layers, ...)
// or in LLaDA-V's LLaMA form (hidden_size, ...), and "llava_llada" (LLaDA-V, with its vision path).
ModelConfig parse_llada_config(const nlohmann::json& j, const std::string& label, const std::string& model_dir);
// The checks every family's language model passes (heads dividing the width, ids in the vocabulary).
void check_language_model(const ModelConfig& c, const std::string& label);
// The language model's sizes under Hugging Face's keys (hidden_size, num_hidden_layers, ...), the
// same for Qwen2, Dream and LLaDA-V's LLaMA form; `c.max_positions` is the default of its key.
void read_huggingface_sizes(const nlohmann::json& j, const std::string& label, ModelConfig& c);
ModelConfig load_model_config(const std::string& model_dir);
PreprocessorConfig load_preprocessor_config(const std::string& model_dir);  // defaults if absent

std::string architecture_name(Architecture a);
std::string read_text_file(const std::string& path);

}  // namespace dimple
