// dLLM-Cache (LLaDA-V's opt-in acceleration, spec llada.md section 8; the original is ML-GSAI/LLaDA-V
// train/llava/hooks/cache_hook_LLaDA_V.py): every decoder layer keeps, per row of one sequence, its
// keys and values before RoPE, its attention output after o_proj and its MLP output after down_proj.
// A forward recomputes only some rows, every `prompt_interval` forwards the prompt's and every
// `gen_interval` forwards the answer's; between answer refreshes, the k = int(A * transfer_ratio)
// answer rows whose fresh values are least similar (cosine) to the cached ones are recomputed. Every
// other row takes its cached attention and MLP outputs. An approximation of exact decoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace dimple {

struct DllmCacheSettings {
    int prompt_interval = 0;      // all three 0: the cache is off
    int gen_interval = 0;
    double transfer_ratio = 0.0;  // double: int(A * r) must round as the original's Python float does

    // Any field set turns it on (and validate_dllm_cache then wants all three sound).
    bool enabled() const { return prompt_interval != 0 || gen_interval != 0 || transfer_ratio != 0; }
};

// "P,G,R", e.g. "25,7,0.25" (generate_demo.py's setting); throws dimple::Error on anything else.
DllmCacheSettings parse_dllm_cache(const std::string& s);
std::string dllm_cache_text(const DllmCacheSettings& s);
// Throws dimple::Error unless the intervals are >= 1 and the ratio lies in [0, 1].
void validate_dllm_cache(const DllmCacheSettings& s);

// Which rows a forward recomputes: the original's refresh_prompt / refresh_gen at forward t (from 1).
struct DllmRefresh {
    bool prompt = false, answer = false;
};
DllmRefresh dllm_refresh(const DllmCacheSettings& s, int t);

// The cache of one sequence (batch 1), reset for each generation. Rows [0, prompt_len) form the
// prompt part, later rows the answer part (answer and any fixed suffix); the row count is fixed.
struct DllmCache {
    DllmCacheSettings settings;
    int64_t prompt_len = 0;
    int forwards = 0;  // forwards run since the reset: the next one is t = forwards + 1
    // Per layer, [rows, kv width] and [rows, hidden]; empty before the first forward.
    std::vector<Tensor> k, v, att, mlp;
    // Per layer, the answer offsets the last forward recomputed by similarity (for tests).
    std::vector<std::vector<int64_t>> transfers;
    // Rows whose attention and MLP the forwards since the reset recomputed, summed over layers (a
    // forward without the cache runs rows x layers); choosing transfer rows also projects every
    // answer row's query, key and value.
    int64_t rows_run = 0;

    DllmCache() = default;
    DllmCache(const DllmCacheSettings& s, int64_t prompt_rows) : settings(s), prompt_len(prompt_rows) {}
};

// The original's refresh_index: the k = int(n * ratio) of n rows (stride floats apart, `width` long)
// whose fresh values have the lowest cosine similarity to the cached ones, ascending by offset. Equal
// similarities go to the lower offset (the original's topk leaves that unspecified).
std::vector<int64_t> least_similar_rows(const float* fresh, int64_t fresh_stride, const float* cached,
                                        int64_t cached_stride, int64_t n, int64_t width, double ratio);

}  // namespace dimple
