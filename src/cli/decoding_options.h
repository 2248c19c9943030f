// The decoding options `dimple run` and `dimple eval` share: one definition of each flag, its
// default (the paper's recommended call) and how it becomes GenerateOptions.
#pragma once

#include <optional>
#include <string>

#include "cli/command_line.h"
#include "decode/generate.h"
#include "engine/engine.h"

namespace dimple::cli {

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

void add_decoding_options(Command& cmd, DecodingOptions& o);

// The faster-decoding options (throws dimple::Error on a bad name or layer list).
Acceleration acceleration(const DecodingOptions& o);

// The options for generate(); structure priors are tokenized with the engine's tokenizer.
GenerateOptions generate_options(const DecodingOptions& o, const Engine& engine);

}  // namespace dimple::cli
