#include "model/synthetic_published.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dimple {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Qwen2.5-VL's image processor settings (Dimple reads them from preprocessor_config.json).
std::string qwen_preprocessor_config() {
    const json c = {{"do_convert_rgb", true}, {"do_normalize", true}, {"do_rescale", true}, {"do_resize", true},
                    {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
                    {"image_std", {0.26862954, 0.26130258, 0.27577711}},
                    {"image_processor_type", "Qwen2VLImageProcessor"}, {"min_pixels", 3136},
                    {"max_pixels", 12845056}, {"merge_size", 2}, {"patch_size", 14}, {"resample", 3},
                    {"rescale_factor", 1.0 / 255}, {"temporal_patch_size", 2}};
    return c.dump(2);
}

// google/siglip2-so400m-patch14-384's vision sizes, as a vision-only tower config.
std::string so400m_tower_config(int num_hidden_layers) {
    const json c = {{"architectures", {"SiglipVisionModel"}}, {"model_type", "siglip_vision_model"},
                    {"hidden_size", 1152}, {"intermediate_size", 4304}, {"num_hidden_layers", num_hidden_layers},
                    {"num_attention_heads", 16}, {"num_channels", 3}, {"image_size", 384}, {"patch_size", 14},
                    {"hidden_act", "gelu_pytorch_tanh"}, {"layer_norm_eps", 1e-6}, {"attention_dropout", 0.0},
                    {"torch_dtype", "bfloat16"}};
    return c.dump(2);
}

}  // namespace

SyntheticModel dimple7b_model(int layers, int vision_depth) {
    check(layers >= 1 && layers <= 28 && vision_depth >= 1 && vision_depth <= 32, "Dimple-7B: ", layers,
          " layers and ", vision_depth, " vision blocks asked; 1..28 and 1..32 exist");
    json fullatt = json::array();
    for (int b : {7, 15, 23, 31})
        if (b < vision_depth) fullatt.push_back(b);
    if (fullatt.empty()) fullatt.push_back(vision_depth - 1);  // keep one full-attention block
    const json vision = {{"depth", vision_depth}, {"fullatt_block_indexes", fullatt}, {"hidden_act", "silu"},
                         {"hidden_size", 1280}, {"in_channels", 3}, {"intermediate_size", 3420},
                         {"model_type", "dimple"}, {"num_heads", 16}, {"out_hidden_size", 3584},
                         {"patch_size", 14}, {"spatial_merge_size", 2}, {"temporal_patch_size", 2},
                         {"tokens_per_second", 2}, {"window_size", 112}};
    const json c = {{"architectures", {"DimpleModel"}}, {"attention_dropout", 0.0}, {"hidden_act", "silu"},
                    {"hidden_size", 3584}, {"initializer_range", 0.02}, {"intermediate_size", 18944},
                    {"max_position_embeddings", 131072}, {"max_window_layers", 28}, {"model_type", "dimple"},
                    {"num_attention_heads", 28}, {"num_hidden_layers", layers}, {"num_key_value_heads", 4},
                    {"rms_norm_eps", 1e-6}, {"rope_scaling", nullptr}, {"rope_theta", 1000000.0},
                    {"sliding_window", nullptr}, {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"},
                    {"use_cache", false}, {"use_sliding_window", false}, {"vocab_size", 152064},
                    {"mrope_section", {16, 24, 24}}, {"full_attn_mask", true},
                    {"pad_token_id", 151643}, {"bos_token_id", 151644}, {"eos_token_id", 151645},
                    {"vision_start_token_id", 151652}, {"vision_end_token_id", 151653},
                    {"vision_token_id", 151654}, {"image_token_id", 151655}, {"video_token_id", 151656},
                    {"mask_token_id", 151666}, {"vision_config", vision}};
    return {c.dump(2), {{"preprocessor_config.json", qwen_preprocessor_config()}}, ""};
}

SyntheticModel llada_v_model(int layers, int tower_layers) {
    check(layers >= 1 && layers <= 32 && tower_layers >= 1 && tower_layers <= 26, "LLaDA-V: ", layers,
          " layers and ", tower_layers, " tower layers asked; 1..32 and 1..26 exist");
    json pinpoints = json::array();  // train.py's expansion of "(1x1),...,(6x6)": width outer
    for (int i = 1; i <= 6; ++i)
        for (int j = 1; j <= 6; ++j) pinpoints.push_back({384 * i, 384 * j});
    const bool published_tower = tower_layers == 26;
    json c = {{"architectures", {"LlavaLLaDAModelLM"}}, {"attention_bias", false}, {"attention_dropout", 0.0},
              {"bos_token_id", 128000}, {"eos_token_id", 126081}, {"hidden_act", "silu"}, {"hidden_size", 4096},
              {"initializer_range", 0.02}, {"intermediate_size", 12288}, {"max_position_embeddings", 16384},
              {"model_type", "llava_llada"}, {"num_attention_heads", 32}, {"num_hidden_layers", layers},
              {"num_key_value_heads", 32}, {"pretraining_tp", 1}, {"rms_norm_eps", 1e-5}, {"rope_scaling", nullptr},
              {"rope_theta", 500000.0}, {"tie_word_embeddings", false}, {"torch_dtype", "bfloat16"},
              {"transformers_version", "4.40.0.dev0"}, {"use_cache", false}, {"vocab_size", 126464},
              {"mm_vision_tower", published_tower ? "google/siglip2-so400m-patch14-384" : "siglip"},
              {"mm_projector_type", "mlp2x_gelu"}, {"mm_hidden_size", 1152}, {"mm_vision_select_layer", -2},
              {"mm_vision_select_feature", "patch"}, {"mm_patch_merge_type", "spatial_unpad"},
              {"image_aspect_ratio", "anyres_max_4"}, {"image_grid_pinpoints", pinpoints},
              {"mm_use_im_start_end", false}, {"mm_use_im_patch_token", false},
              {"mm_newline_position", "one_token"}, {"mm_spatial_pool_mode", "bilinear"},
              {"mm_resampler_type", nullptr}, {"tokenizer_model_max_length", 8192},
              {"tokenizer_padding_side", "right"}, {"use_mm_proj", true}, {"vision_tower_pretrained", nullptr}};
    // llada_v_prepare/files/generation_config.json: bos 126080 (config.json keeps LLaMA-3's 128000).
    const json gen = {{"bos_token_id", 126080}, {"eos_token_id", 126081}, {"pad_token_id", 126081},
                      {"mask_token_id", 126336}};
    SyntheticModel m{c.dump(2), {}, gen.dump(2)};
    if (!published_tower) m.files.emplace_back("siglip/config.json", so400m_tower_config(tower_layers + 1));
    return m;
}

SyntheticModel published_model(const std::string& name, int layers, int vision_layers) {
    if (name == "dimple-7b") return dimple7b_model(layers ? layers : 28, vision_layers ? vision_layers : 32);
    if (name == "llada-v") return llada_v_model(layers ? layers : 32, vision_layers ? vision_layers : 26);
    fail("synthetic model \"", name, "\" is not known (dimple-7b or llada-v)");
}

void write_synthetic_model(const std::string& dir, const SyntheticModel& model, const SyntheticOptions& opt,
                           const SyntheticProgress& progress) {
    for (const auto& [path, text] : model.files) {
        const fs::path file = fs::path(dir) / path;
        fs::create_directories(file.parent_path());
        std::ofstream out(file);
        out << text;
        out.close();
        check(out.good(), file.string(), ": cannot write");
    }
    write_synthetic_checkpoint(dir, model.config_json, opt, progress);
    if (model.generation_config_json.empty()) return;
    std::ofstream out(fs::path(dir) / "generation_config.json");
    out << model.generation_config_json;
    out.close();
    check(out.good(), dir, ": cannot write generation_config.json");
}

}  // namespace dimple
