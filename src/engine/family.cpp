#include "engine/family.h"

namespace dimple {

namespace {

constexpr int kLladaVocabulary = 126464;

// A special token's id: the tokenizer's, else the published LLaDA id when the vocabulary is LLaDA's.
int64_t special_id(const ModelConfig& cfg, const text::Tokenizer* tok, const char* text, int64_t published) {
    if (tok) return tok->token_id(text);
    return cfg.vocab_size == kLladaVocabulary ? published : -1;
}

void add_known(std::vector<int64_t>& ids, int64_t id) {
    if (id >= 0) ids.push_back(id);
}

// LLaDA-8B's generate.py / chat.py call (steps 128, gen_length 128, block_length 32, greedy, low
// confidence) and LLaDA-V's generate_demo.py (128 / 128 / 128, stop at <|eot_id|>, eos, bos and the
// header ids never generated at a mask: generate_with_embeds hard-codes those four).
Family llada_family(const ModelConfig& cfg, const text::Tokenizer* tok) {
    Family f;
    GenerateOptions& g = f.decoding;
    g.pipeline = Pipeline::Llada;
    g.steps = 128;
    g.max_new_tokens = 128;
    g.sampling = SamplingOptions{0.f, std::nullopt, std::nullopt};
    g.threshold = std::nullopt;
    g.use_cache = false;
    const int64_t eot = special_id(cfg, tok, "<|eot_id|>", 126348);
    add_known(f.end_ids, cfg.ids.eos);
    add_known(f.end_ids, eot);
    if (cfg.arch == Architecture::LladaV) {
        f.chat = text::ChatTemplateKind::LladaV;
        add_known(g.stop_ids, eot);
        add_known(g.banned_ids, cfg.ids.eos);
        add_known(g.banned_ids, special_id(cfg, tok, "<|startoftext|>", 126080));
        add_known(g.banned_ids, special_id(cfg, tok, "<|start_header_id|>", 126346));
        add_known(g.banned_ids, special_id(cfg, tok, "<|end_header_id|>", 126347));
    } else {
        f.chat = text::ChatTemplateKind::Llada;
        g.accel.block_length = 32;
    }
    return f;
}

// Dimple (BENCHMARKS.md "Time to answer" and "Faster decoding options", dimple-shapes' 450 held-out
// questions and the full-size synthetic 7B): fast = blocks of 16 with the dual cache and early stop
// (96.0% against 95.8% exact; 7B 24.1 -> 14.7 s), faster = also FastV pruning after layer 1 keeping
// 60% of the image tokens (95.3%; 13.3 s).
std::map<Speed, SpeedPreset> dimple_speeds() {
    SpeedPreset fast;
    fast.accel.early_stop = EarlyStop::Loop;
    fast.accel.block_length = 16;
    fast.accel.dual_cache = true;
    fast.prefill = true;
    SpeedPreset faster = fast;
    faster.accel.prune_layer = 1;
    faster.accel.prune_keep = 0.6f;
    return {{Speed::Fast, fast}, {Speed::Faster, faster}};
}

}  // namespace

Family model_family(const ModelConfig& cfg, const text::Tokenizer* tok) {
    if (cfg.arch == Architecture::Llada || cfg.arch == Architecture::LladaV) return llada_family(cfg, tok);
    Family f;  // Dimple's paper defaults (GenerateOptions' own)
    f.speeds = dimple_speeds();
    f.chat = cfg.vision ? text::ChatTemplateKind::Qwen2VL : text::ChatTemplateKind::Qwen2;
    add_known(f.end_ids, cfg.ids.eos);
    return f;
}

}  // namespace dimple
