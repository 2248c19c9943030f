// The decoding options of a request as a user gives them (names, not enums; the defaults are the
// paper's recommended call), and how they become GenerateOptions. `dimple run`, `dimple eval` and
// the C API (include/dimple.h) all take these: one definition of each option and its default.
#pragma once

#include <optional>
#include <string>

#include "decode/generate.h"
#include "engine/engine.h"

namespace dimple {

struct DecodingOptions {
    int steps = 64, max_new_tokens = 64, top_k = 50;
    std::string alg = "origin", pipeline = "dim";
    float threshold = 0.95f, temperature = 0.2f, top_p = 0.95f, alg_temp = 0.f, eps = 1e-3f;
    bool cache = true, original_confidence = true;
    uint64_t seed = 0;
    std::string answer_template, fix_ids;
    std::optional<int64_t> length;
    // Faster decoding (decode/acceleration.h), all off by default.
    std::string early_stop = "off", skip_layers, prune_when = "prefill";
    int block_length = 0, cache_refresh = 0, skip_from = 1, prune_layer = -1, prune_step = 4;
    bool dual_cache = false;
    float prune_keep = 1.f;
};

// The faster-decoding options (throws dimple::Error on a bad name or layer list).
Acceleration acceleration(const DecodingOptions& o);

// The options for generate(); structure priors are tokenized with the engine's tokenizer.
GenerateOptions generate_options(const DecodingOptions& o, const Engine& engine);

}  // namespace dimple
