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

struct AttentionHeads {
    int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
    int64_t q_stride = 0, k_stride = 0;  // floats between consecutive rows
};

// For each candidate key, the softmax(q k^T / sqrt(head_dim)) probability it receives, summed over
// the query rows and the heads; every query sees all `n_keys` keys.
std::vector<double> attention_received(const float* q, std::span<const int64_t> query_rows, const float* keys,
                                       int64_t n_keys, const AttentionHeads& h, std::span<const int64_t> candidates);

// The candidates but the `keep` with the highest scores (ties kept in favour of the earlier), sorted.
std::vector<int64_t> least_attended(std::span<const int64_t> candidates, std::span<const double> scores, int64_t keep);

}  // namespace dimple
