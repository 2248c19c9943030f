// The entry points of the token choice (sampling.cpp): each calls the copy compiled for the
// instruction set this process runs (core/isa.h says why and how).
#include "core/isa.h"
#include "decode/sampling.h"

namespace dimple {

DIMPLE_ISA_KERNEL(processed_probabilities)
DIMPLE_ISA_KERNEL(choose_token)
DIMPLE_ISA_KERNEL(choose_tokens)

bool processed_probabilities(const float* logits, int64_t vocab, const SamplingOptions& opt, SamplingScratch& s) {
    return DIMPLE_DISPATCH(processed_probabilities)(logits, vocab, opt, s);
}

TokenChoice choose_token(const float* logits, int64_t vocab, const SamplingOptions& opt, ConfidenceKind kind,
                         bool original_confidence, Rng& rng, SamplingScratch& s) {
    return DIMPLE_DISPATCH(choose_token)(logits, vocab, opt, kind, original_confidence, rng, s);
}

std::vector<TokenChoice> choose_tokens(const float* logits, int64_t rows, int64_t vocab, const SamplingOptions& opt,
                                       ConfidenceKind kind, bool original_confidence, uint64_t seed, int64_t step,
                                       const std::vector<int64_t>& row_ids) {
    return DIMPLE_DISPATCH(choose_tokens)(logits, rows, vocab, opt, kind, original_confidence, seed, step, row_ids);
}

}  // namespace dimple
