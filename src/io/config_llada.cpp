// config.json of the LLaDA family (spec llada.md section 1). LLaDA-8B publishes OLMo's keys
// (d_model, n_layers, mlp_hidden_size, ...) and tensor names (model.transformer.*); LLaDA-V renames
// the same model to LLaMA's keys and names. Both are the same computation: no biases, SwiGLU,
// RMSNorm, 1-D RoPE over every row, bidirectional attention, unshifted logits.
#include "core/error.h"
#include "io/config.h"
#include "io/llava_config.h"
#include "io/json_fields.h"

namespace dimple {

namespace {

constexpr int64_t kMaxDim = 1 << 20;

// The OLMo options LLaDA-8B sets; any other value names a model this engine does not compute.
void check_olmo_options(const Fields& f) {
    auto require = [&](const char* key, const std::string& want, const std::string& got) {
        check(got == want, f.label, ": \"", key, "\" = ", got, " is not supported (LLaDA uses ", want, ")");
    };
    require("block_type", "llama", f.string_or("block_type", "llama"));
    require("layer_norm_type", "rms", f.string_or("layer_norm_type", "rms"));
    require("activation_type", "silu", f.string_or("activation_type", "silu"));
    auto flag = [&](const char* key, bool want) {
        require(key, want ? "true" : "false", f.boolean_or(key, want) ? "true" : "false");
    };
    flag("rope", true);
    flag("alibi", false);
    flag("include_bias", false);
    flag("scale_logits", false);
    flag("input_emb_norm", false);
    flag("attention_layer_norm", false);
    flag("layer_norm_with_affine", true);
    flag("bias_for_layer_norm", false);
    check(!f.has("multi_query_attention") || !f.j["multi_query_attention"].is_boolean() ||
              !f.j["multi_query_attention"].get<bool>(),
          f.label, ": \"multi_query_attention\" is not supported (use n_kv_heads)");
}

void parse_olmo(const Fields& f, ModelConfig& c) {
    check_olmo_options(f);
    c.naming = TensorNaming::Olmo;
    c.hidden_size = int(f.integer("d_model", 1, kMaxDim));
    c.num_layers = int(f.integer("n_layers", 1, 1024));
    c.num_heads = int(f.integer("n_heads", 1, 4096));
    c.num_kv_heads = int(f.integer_or("n_kv_heads", c.num_heads, 1, 4096));
    const int64_t ratio = f.integer_or("mlp_ratio", 4, 1, 1024);
    c.intermediate_size = int(f.integer_or("mlp_hidden_size", ratio * c.hidden_size, 1, kMaxDim));
    // The embedding table has embedding_size rows (vocab_size rounded up), and so has the head.
    const int64_t vocab = f.integer("vocab_size", 1, 1 << 24);
    c.vocab_size = int(f.integer_or("embedding_size", vocab, vocab, 1 << 24));
    c.max_positions = f.integer_or("max_sequence_length", 4096, 1, int64_t(1) << 24);
    c.tie_word_embeddings = f.boolean_or("weight_tying", false);
    c.qkv_bias = f.boolean_or("include_qkv_bias", false);
}

void parse_llama(const Fields& f, ModelConfig& c) {
    c.naming = TensorNaming::HuggingFace;
    c.max_positions = 16384;  // LLaDA-V's, when the key is absent
    read_huggingface_sizes(f.j, f.label, c);
    c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
    c.qkv_bias = f.boolean_or("attention_bias", false);
    c.hidden_act = f.string_or("hidden_act", "silu");
    check(c.hidden_act == "silu", f.label, ": hidden_act \"", c.hidden_act, "\" is not supported (only silu)");
    check(!f.has("rope_scaling"), f.label, ": rope_scaling is not supported (LLaDA uses plain RoPE)");
}

}  // namespace

ModelConfig parse_llada_config(const nlohmann::json& j, const std::string& label, const std::string& model_dir) {
    const Fields f{j, label};
    ModelConfig c;
    c.model_type = f.string_or("model_type", "");
    c.arch = c.model_type == "llava_llada" ? Architecture::LladaV : Architecture::Llada;
    if (f.has("d_model"))
        parse_olmo(f, c);
    else
        parse_llama(f, c);
    c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-5, 0, 1);
    c.rope_theta = f.number_or("rope_theta", 10000.0, 1, 1e12);
    c.mrope_section = {c.head_dim() / 2, 0, 0};
    c.shifted_logits = false;
    c.positions = PositionScheme::Sequential;
    // LLaDA-V's config keeps a LLaMA-3 bos (128000) outside the vocabulary: the generation config's
    // ids are the ones the model was trained with, so bos is read there, not here.
    auto id = [&](const char* key, int64_t fallback) {
        const int64_t v = f.integer_or(key, fallback, -1, int64_t(1) << 32);
        return v >= 0 && v < c.vocab_size ? v : -1;
    };
    c.ids.eos = id("eos_token_id", -1);
    c.ids.pad = id("pad_token_id", c.ids.eos);
    c.ids.bos = id("bos_token_id", -1);
    // The mask id is a LLaDA constant (126336) that only the OLMo config states.
    c.ids.mask = f.integer_or("mask_token_id", 126336, 0, c.vocab_size - 1);
    if (c.arch == Architecture::LladaV) {
        c.llava = parse_llava_vision(j, model_dir, label);
        c.ids.image = kLlavaImageId;
    }
    return c;
}

}  // namespace dimple
