#include "io/config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/json_fields.h"

namespace dimple {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxDim = 1 << 20;

VisionConfig parse_vision(const json& j, const std::string& label) {
    Fields f{j, label + " (vision_config)"};
    VisionConfig v;
    v.depth = int(f.integer("depth", 1, 1024));
    v.hidden_size = int(f.integer("hidden_size", 1, kMaxDim));
    v.intermediate_size = int(f.integer("intermediate_size", 1, kMaxDim));
    v.num_heads = int(f.integer("num_heads", 1, 4096));
    v.in_channels = int(f.integer_or("in_channels", 3, 3, 3));
    v.patch_size = int(f.integer_or("patch_size", 14, 1, 1024));
    v.spatial_merge_size = int(f.integer_or("spatial_merge_size", 2, 1, 16));
    v.temporal_patch_size = int(f.integer_or("temporal_patch_size", 2, 1, 16));
    v.window_size = int(f.integer_or("window_size", 112, 1, 1 << 16));
    v.out_hidden_size = int(f.integer("out_hidden_size", 1, kMaxDim));
    v.hidden_act = f.string_or("hidden_act", "silu");
    for (int64_t i : f.int_list("fullatt_block_indexes")) {
        check(i >= 0 && i < v.depth, f.label, ": fullatt_block_indexes entry ", i,
              " is not a block index (depth ", v.depth, ")");
        v.fullatt_block_indexes.push_back(int(i));
    }
    check(v.hidden_size % v.num_heads == 0, f.label, ": hidden_size ", v.hidden_size,
          " is not divisible by num_heads ", v.num_heads);
    check(v.head_dim() % 4 == 0, f.label, ": head_dim ", v.head_dim(),
          " must be a multiple of 4 for the 2-D rotary embedding");
    const int unit = v.patch_size * v.spatial_merge_size;
    check(v.window_size % unit == 0, f.label, ": window_size ", v.window_size,
          " is not a multiple of patch_size*spatial_merge_size (", unit, ")");
    check(v.hidden_act == "silu", f.label, ": hidden_act \"", v.hidden_act,
          "\" is not supported (only silu)");
    return v;
}

}  // namespace

nlohmann::json parse_json_object(const std::string& text, const std::string& label) {
    try {
        json j = json::parse(text);
        check(j.is_object(), label, ": expected a JSON object");
        return j;
    } catch (const json::exception& e) {
        fail(label, ": not valid JSON (", e.what(), ")");
    }
}

std::string architecture_name(Architecture a) {
    switch (a) {
        case Architecture::Dimple: return "dimple";
        case Architecture::Dream: return "Dream";
        case Architecture::Llada: return "LLaDA";
        case Architecture::LladaV: return "LLaDA-V";
    }
    return "?";
}

void read_huggingface_sizes(const json& j, const std::string& label, ModelConfig& c) {
    const Fields f{j, label};
    c.hidden_size = int(f.integer("hidden_size", 1, kMaxDim));
    c.intermediate_size = int(f.integer("intermediate_size", 1, kMaxDim));
    c.num_layers = int(f.integer("num_hidden_layers", 1, 1024));
    c.num_heads = int(f.integer("num_attention_heads", 1, 4096));
    c.num_kv_heads = int(f.integer_or("num_key_value_heads", c.num_heads, 1, 4096));
    c.vocab_size = int(f.integer("vocab_size", 1, 1 << 24));
    c.max_positions = f.integer_or("max_position_embeddings", c.max_positions, 1, int64_t(1) << 24);
}

void check_language_model(const ModelConfig& c, const std::string& label) {
    const bool olmo = c.naming == TensorNaming::Olmo;
    const char* width = olmo ? "d_model" : "hidden_size";
    const char* heads = olmo ? "n_heads" : "num_attention_heads";
    const char* kv_heads = olmo ? "n_kv_heads" : "num_key_value_heads";
    check(c.hidden_size % c.num_heads == 0, label, ": ", width, " ", c.hidden_size, " is not divisible by ", heads,
          " ", c.num_heads);
    check(c.num_heads % c.num_kv_heads == 0, label, ": ", heads, " ", c.num_heads, " is not a multiple of ",
          kv_heads, " ", c.num_kv_heads);
    check(c.head_dim() % 2 == 0, label, ": head_dim ", c.head_dim(), " must be even");
    for (int64_t id : {c.ids.pad, c.ids.bos, c.ids.eos, c.ids.mask})
        check(id >= -1 && id < c.vocab_size, label, ": special token id ", id, " is outside the vocabulary (",
              c.vocab_size, ")");
    check(c.ids.mask >= 0, label, ": missing required field \"mask_token_id\"");
}

std::string read_text_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    check(f.good(), path, ": cannot read");
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

ModelConfig parse_model_config(const std::string& text, const std::string& label, const std::string& model_dir) {
    const json j = parse_json_object(text, label);
    Fields f{j, label};
    ModelConfig c;
    c.model_type = f.string_or("model_type", "");
    if (c.model_type == "llada" || c.model_type == "llava_llada") {
        c = parse_llada_config(j, label, model_dir);
        check_language_model(c, label);
        return c;
    }
    if (c.model_type == "dimple") {
        c.arch = Architecture::Dimple;
    } else if (c.model_type == "Dream" || c.model_type == "dream") {
        c.arch = Architecture::Dream;
    } else {
        fail(label, ": model_type \"", c.model_type,
             "\" is not supported (expected \"dimple\", \"Dream\", \"llada\" or \"llava_llada\")");
    }
    read_huggingface_sizes(j, label, c);
    c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6, 0, 1);
    c.rope_theta = f.number_or("rope_theta", 10000.0, 1, 1e12);
    c.hidden_act = f.string_or("hidden_act", "silu");
    c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
    check(c.hidden_act == "silu", label, ": hidden_act \"", c.hidden_act, "\" is not supported");
    check(c.hidden_size % c.num_heads == 0, label, ": hidden_size ", c.hidden_size,
          " is not divisible by num_attention_heads ", c.num_heads);  // before head_dim() is used below

    // M-RoPE sections: top-level (Dimple) or inside rope_scaling (Qwen2-VL style); Dream has none
    // and uses 1-D RoPE, which is M-RoPE with all frequencies on the t id.
    std::vector<int64_t> sec = f.int_list("mrope_section");
    if (sec.empty() && f.has("rope_scaling") && j["rope_scaling"].is_object())
        sec = Fields{j["rope_scaling"], label + " (rope_scaling)"}.int_list("mrope_section");
    if (sec.empty()) sec = {c.head_dim() / 2, 0, 0};
    check(sec.size() == 3, label, ": mrope_section must have 3 entries");
    check(sec[0] >= 0 && sec[1] >= 0 && sec[2] >= 0 && (sec[0] + sec[1] + sec[2]) * 2 == c.head_dim(),
          label, ": mrope_section [", sec[0], ", ", sec[1], ", ", sec[2], "] must sum to head_dim/2 = ",
          c.head_dim() / 2);
    c.mrope_section = {int(sec[0]), int(sec[1]), int(sec[2])};

    const int64_t V = c.vocab_size;
    auto id = [&](const char* key, int64_t fallback) {
        const int64_t v = f.integer_or(key, fallback, -1, V - 1);
        return v;
    };
    c.ids.pad = id("pad_token_id", -1);
    c.ids.bos = id("bos_token_id", -1);
    c.ids.eos = id("eos_token_id", -1);
    c.ids.mask = id("mask_token_id", -1);
    if (c.arch == Architecture::Dimple) {
        c.ids.image = id("image_token_id", -1);
        c.ids.video = id("video_token_id", -1);
        c.ids.vision_start = id("vision_start_token_id", -1);
        c.ids.vision_end = id("vision_end_token_id", -1);
        c.ids.vision = id("vision_token_id", -1);
        check(f.has("vision_config") && j["vision_config"].is_object(), label,
              ": a dimple config needs a \"vision_config\" object");
        check(c.ids.image >= 0, label, ": missing required field \"image_token_id\"");
        c.vision = parse_vision(j["vision_config"], label);
    }
    check_language_model(c, label);
    return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
    const std::string path = (fs::path(model_dir) / "config.json").string();
    check(fs::is_directory(model_dir), model_dir, ": not a model folder");
    check(fs::exists(path), model_dir, ": no config.json (is this a Hugging Face model folder?)");
    return parse_model_config(read_text_file(path), path, model_dir);
}

PreprocessorConfig load_preprocessor_config(const std::string& model_dir) {
    PreprocessorConfig p;
    const std::string path = (fs::path(model_dir) / "preprocessor_config.json").string();
    if (!fs::exists(path)) return p;
    const json j = parse_json_object(read_text_file(path), path);
    Fields f{j, path};
    p.min_pixels = f.integer_or("min_pixels", p.min_pixels, 1, int64_t(1) << 40);
    p.max_pixels = f.integer_or("max_pixels", p.max_pixels, 1, int64_t(1) << 40);
    p.patch_size = int(f.integer_or("patch_size", p.patch_size, 1, 1024));
    p.merge_size = int(f.integer_or("merge_size", p.merge_size, 1, 16));
    p.temporal_patch_size = int(f.integer_or("temporal_patch_size", p.temporal_patch_size, 1, 16));
    p.rescale_factor = f.number_or("rescale_factor", p.rescale_factor, 0, 1);
    auto triple = [&](const char* key, std::array<double, 3>& out) {
        if (!f.has(key)) return;
        check(j[key].is_array() && j[key].size() == 3, path, ": \"", key, "\" must be 3 numbers");
        for (int i = 0; i < 3; ++i) {
            check(j[key][i].is_number(), path, ": \"", key, "\" must be 3 numbers");
            out[size_t(i)] = j[key][i].get<double>();
        }
    };
    triple("image_mean", p.image_mean);
    triple("image_std", p.image_std);
    for (double s : p.image_std) check(s > 0, path, ": image_std must be positive");
    check(p.min_pixels <= p.max_pixels, path, ": min_pixels exceeds max_pixels");
    return p;
}

}  // namespace dimple
