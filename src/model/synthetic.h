// Random checkpoints in the real Hugging Face layout, for tests and benchmarks: a config.json
// (given), generation_config.json, and the weights that config implies, drawn from N(0, std^2)
// (norm weights around 1), stored in the given dtype, optionally split into shards. The values are
// drawn and written a chunk at a time, so a 7B checkpoint is written in a few MiB of memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/dtype.h"

namespace dimple {

struct SyntheticOptions {
    DType dtype = DType::BF16;
    int shards = 1;
    uint32_t seed = 0;
    float std = 0.05f;
};

// Called after each tensor with the weight bytes written so far and in all.
using SyntheticProgress = std::function<void(uint64_t done, uint64_t total)>;

void write_synthetic_checkpoint(const std::string& dir, const std::string& config_json,
                                const SyntheticOptions& opt, const SyntheticProgress& progress = {});

}  // namespace dimple
