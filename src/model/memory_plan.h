// What a model costs in memory in each compute mode, and which mode `--compute auto` runs: decided
// before any weight is loaded, so that a model that cannot fit fails at once with the figures.
#pragma once

#include <cstdint>
#include <string>

#include "core/memory.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "kernels/matmul.h"

namespace dimple {

// Bytes a loaded model holds, per compute mode: the repacked linear weights (f32, bf16, or int8
// plus per-channel scales and column sums), norms and biases in f32, the embedding table as
// published (read from the mapped file), and a working allowance for activations.
struct WeightFootprint {
    uint64_t f32 = 0, bf16 = 0, int8 = 0;
    bool int8_checkpoint = false;     // linear weights stored as int8 (`dimple quantize`)
    bool f32_checkpoint = false;      // linear weights stored as f32
    uint64_t bytes(Compute c) const;  // c must not be Auto
};

// The working allowance counted in every mode: activations, key/value caches and logits of one
// request at the lengths Dimple answers with (a 7B-width step over ~1000 tokens uses ~0.3 GiB).
constexpr uint64_t kWorkingBytes = uint64_t(512) << 20;

WeightFootprint weight_footprint(const Checkpoint& ckpt, const ModelConfig& cfg);

struct CpuFeatures {
    bool native_bf16 = false;    // AVX512_BF16: bf16 products at full speed
    bool bf16_products = false;  // oneDNN runs bf16 at all (emulated on AVX-512 without BF16)
    static CpuFeatures detect();
};

struct ComputePlan {
    Compute compute = Compute::F32;
    std::string reason;  // one line for the user: the mode, why, and the memory figures
};

// `auto`: the fastest mode that fits and never a whole-model upcast from 16-bit weights to f32:
//  - an int8 checkpoint runs int8;
//  - with native bf16 products: bf16, else int8 if only that fits;
//  - without: f32 for an f32 checkpoint (no upcast), else int8 (an upcast would double the
//    weights, and emulated bf16 products are slower than f32 ones, which int8 products beat ~3x).
// An explicit mode runs if it fits. When the chosen mode does not fit this fails (dimple::Error)
// with the bytes needed, the bytes available and the modes that would fit.
ComputePlan plan_compute(Compute requested, const WeightFootprint& f, const AvailableMemory& available,
                         const CpuFeatures& cpu);

}  // namespace dimple
