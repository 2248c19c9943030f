// The decoding options of a request as a user gives them (names, not enums), and how they become
// GenerateOptions. An option left unset takes the model family's published value (engine/family.h:
// Dimple's paper call, LLaDA's generate.py, LLaDA-V's demo); the others have one default for all. `dimple run`, `dimple eval` and
// the C API (include/dimple.h) all take these: one definition of each option and its default.
#pragma once

#include <optional>
#include <string>

#include "decode/generate.h"
#include "engine/engine.h"

namespace dimple {

struct DecodingOptions {
    // The family's own when unset.
    std::optional<int> steps, max_new_tokens, top_k, block_length;
    std::optional<std::string> pipeline, remasking;
    std::optional<float> threshold, temperature, top_p, cfg_scale;
    std::optional<bool> cache;
    std::string alg = "origin";
    float alg_temp = 0.f, eps = 1e-3f;
    bool original_confidence = true;
    uint64_t seed = 0;
    std::string answer_template, fix_ids;
    std::optional<int64_t> length;
    // A named preset of the options below (engine/family.h): "exact" | "fast" | "faster". Options
    // set alongside it (to other than their default) change the preset's.
    std::string speed = "exact";
    // Faster decoding (decode/acceleration.h), all off by default.
    std::string early_stop = "off", skip_layers, prune_when = "prefill";
    int cache_refresh = 0, skip_from = 1, prune_layer = -1, prune_step = 4;
    bool dual_cache = false;
    float prune_keep = 1.f;
    std::string dllm_cache;  // LLaDA-V's dLLM-Cache, "P,G,R" (model/dllm_cache.h); empty: off
};

// The options for generate() over the engine's family call; structure priors are tokenized with the
// engine's tokenizer. Throws dimple::Error on a bad name or value.
GenerateOptions generate_options(const DecodingOptions& o, const Engine& engine);

// The answer length a request will have: its own, else the family's (for sizing a model's memory
// before it is loaded).
int answer_tokens(const DecodingOptions& o, const ModelConfig& cfg);

}  // namespace dimple
