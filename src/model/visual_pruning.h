// Visual-token pruning (FastV, arXiv 2403.06764): after one decoder layer, the image tokens that
// receive the least attention from the text and answer rows are hidden from every later layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dimple {

// The pruning of one sequence in a forward call. Key indices follow the sequence's key order at
// layer `layer`: its cached keys, then its rows in this call.
struct VisualPruning {
    int layer = -1;
    std::vector<int64_t> candidates;   // the image keys that may be dropped
    std::vector<int64_t> query_rows;   // rows of the sequence whose attention is summed
    int64_t keep = 0;                  // candidates kept
    // A cached key's index in the later layers, whose cache may already be pruned (-1: absent);
    // empty when they hold the same keys as `layer`.
    std::vector<int64_t> later_index;
    std::vector<int64_t> dropped;      // out: the dropped candidates, sorted
};

// What the visual-token redundancy study measures: at every layer, the share of attention that
// `query_rows` give the image keys `candidates` (their probability mass, averaged over the query
// rows and heads). Key indices as VisualPruning's.
struct ImageAttention {
    std::vector<int64_t> candidates;
    std::vector<int64_t> query_rows;
    std::vector<float> share;  // out, one per layer; NaN for a layer the call skipped
};

struct AttentionHeads {
    int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
    int64_t q_stride = 0, k_stride = 0;  // floats between consecutive rows
};

// The image keys of a sequence whose call feeds `len` rows from prompt position `first`, in key
// order: with a cache (`cached`: the prompt positions it holds), the cached positions holding
// `image_id`; without, the call's own rows holding it (`ids`: the prompt's ids).
std::vector<int64_t> image_keys(std::span<const int64_t> ids, int64_t image_id, const std::vector<int64_t>* cached,
                                int64_t first, int64_t len);

// For each candidate key, the softmax(q k^T / sqrt(head_dim)) probability it receives, summed over
// the query rows and the heads; every query sees all `n_keys` keys.
std::vector<double> attention_received(const float* q, std::span<const int64_t> query_rows, const float* keys,
                                       int64_t n_keys, const AttentionHeads& h, std::span<const int64_t> candidates);

// The candidates but the `keep` with the highest scores (ties kept in favour of the earlier), sorted.
std::vector<int64_t> least_attended(std::span<const int64_t> candidates, std::span<const double> scores, int64_t keep);

}  // namespace dimple
