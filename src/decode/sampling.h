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

// Vocabulary-sized buffers, reused across positions.
struct SamplingScratch {
    std::vector<float> processed, original, kept_logits;
    std::vector<int32_t> kept;
    std::vector<double> cumulative;
};

// The processed distribution: logits / temperature, top-p (the smallest prefix by descending logit,
// ties to the lower index, whose probability exceeds p), top-k (tokens below the k-th largest
// logit left), each removed token set to the float32 minimum, then softmax; removed tokens get
// probability exactly 0. Returns the surviving tokens in s.kept (by descending logit), or false
// when no filter removed anything (every token survives, s.kept is not filled).
bool processed_probabilities(const float* logits, int64_t vocab, const SamplingOptions& opt, SamplingScratch& s);

// Chooses the token at one position: argmax of the processed distribution, or at temperature > 0 a
// draw from it (one uniform from `rng`, a cumulative sum over the surviving tokens and a binary
// search). The confidence is read from the softmax of the unprocessed logits when
// `original_confidence` (the dim pipeline's default), else from the processed distribution.
TokenChoice choose_token(const float* logits, int64_t vocab, const SamplingOptions& opt,
                         ConfidenceKind kind, bool original_confidence, Rng& rng, SamplingScratch& s);

// The random stream of one masked row at one step, seeded from (seed, step, row) through SplitMix64:
// a row's draw depends on neither the thread that runs it nor the other rows.
Rng row_rng(uint64_t seed, int64_t step, int64_t row);

// choose_token for every row of logits [rows, vocab], rows in parallel over the engine's threads;
// row k draws from row_rng(seed, step, row_ids[k]), so the result is the same for any thread count.
std::vector<TokenChoice> choose_tokens(const float* logits, int64_t rows, int64_t vocab, const SamplingOptions& opt,
                                       ConfidenceKind kind, bool original_confidence, uint64_t seed, int64_t step,
                                       const std::vector<int64_t>& row_ids);

}  // namespace dimple
