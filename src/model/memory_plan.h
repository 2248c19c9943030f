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

// Bytes a loaded model's weights hold, per compute mode: the repacked linear weights (f32, bf16, or
// int8 plus per-channel scales and column sums), norms and biases in f32, and the embedding table
// as published (read from the mapped file).
struct WeightFootprint {
    uint64_t f32 = 0, bf16 = 0, int8 = 0;
    bool int8_checkpoint = false;     // linear weights stored as int8 (`dimple quantize`)
    bool f32_checkpoint = false;      // linear weights stored as f32
    uint64_t bytes(Compute c) const;  // c must not be Auto
};

WeightFootprint weight_footprint(const Checkpoint& ckpt, const ModelConfig& cfg);

// The largest request a command runs: what the working memory is sized for. Commands set it from
// their own limits (`dimple run -n`, `serve --max-prompt-tokens`...) and the engine refuses a
// longer prompt or more images, so that what the plan said fits does fit.
struct RequestLimits {
    int64_t prompt_tokens = 4096;  // image tokens included
    int64_t answer_tokens = 64;
    int64_t images = 1;            // per prompt
};

// Working memory of the largest request, in every compute mode alike:
//  - activations: the largest of the vision tower over the most patches the prompt may hold (each
//    image at most the processor's max_pixels; LLaDA-V: the image with the most anyres crops, 1 +
//    36 tiles of 729 patches, through SigLIP and the projector) and a language-model pass over
//    every prompt and answer row (the first step, or every step without prefilling) with the
//    prompt's key/value caches and embedding rows, and the answer's logits with the sampler's
//    probabilities beside them (and LLaDA's edited copy);
//  - kept buffers: freed tensor blocks kept for reuse (core/block_cache), capped to the activations
//    (and its own 512 MiB bound): the engine sets that cap;
//  - program: the code and libraries (oneDNN's is most of it) and the threads' stacks.
struct WorkingMemory {
    uint64_t vision = 0, language = 0;  // the two stages' activations, one after the other
    uint64_t kept_buffers = 0, program = 0;
    uint64_t activations() const { return vision > language ? vision : language; }
    uint64_t total() const { return activations() + kept_buffers + program; }
};
// Resident size of the program itself before any model is loaded (measured: `dimple info` peaks at
// 12.3 MiB on Zen 5, Debian 12's oneDNN 2.7), with room for the threads' stacks.
constexpr uint64_t kProgramBytes = uint64_t(24) << 20;
WorkingMemory working_memory(const ModelConfig& cfg, const PreprocessorConfig& pre, const RequestLimits& r);

// What `auto` weighs: the weights in each mode and the working memory, which every mode needs.
struct Footprint {
    WeightFootprint weights;
    WorkingMemory working;
    uint64_t bytes(Compute c) const { return weights.bytes(c) + working.total(); }
};

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
ComputePlan plan_compute(Compute requested, const Footprint& f, const AvailableMemory& available,
                         const CpuFeatures& cpu);

}  // namespace dimple
