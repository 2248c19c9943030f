// Turning one position's logits into a token and a confidence (the original `sample_tokens`).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace dimple {

using Rng = std::mt19937_64;

struct SamplingOptions {
    float temperature = 0.f;        // 0: argmax
    std::optional<float> top_p;     // applied when < 1
    std::optional<int> top_k;       // the original's default is 50 (quirk G1)
};

// What a confidence measures (the decoding algorithm decides).
enum class ConfidenceKind { Probability, Margin, NegEntropy };

struct TokenChoice {
    int64_t token = 0;
    float confidence = 0.f;
};

// Chooses the token at one position. Logits are processed in order: / temperature, top-p, top-k
// (tokens below the k-th largest get the float32 minimum), softmax; argmax or a categorical draw.
// The confidence is read from the softmax of the unprocessed logits when `original_confidence`
// (the dim pipeline's default), else from the processed distribution. `scratch` avoids
// reallocating vocabulary-sized buffers for every position.
struct SamplingScratch {
    std::vector<float> processed, original;
    std::vector<int32_t> order;
};
TokenChoice choose_token(const float* logits, int64_t vocab, const SamplingOptions& opt,
                         ConfidenceKind kind, bool original_confidence, Rng& rng, SamplingScratch& s);

}  // namespace dimple
