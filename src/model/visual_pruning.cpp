#include "model/visual_pruning.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace dimple {

// Scores are computed once per pruning, over a few hundred query rows at most: plain loops, in
// double so that near-equal scores are ordered the same on every CPU.
std::vector<double> attention_received(const float* q, std::span<const int64_t> query_rows, const float* keys,
                                       int64_t n_keys, const AttentionHeads& h, std::span<const int64_t> candidates) {
    check(h.q_heads % h.kv_heads == 0, "attention_received: query heads must be a multiple of key heads");
    for (int64_t c : candidates) check(c >= 0 && c < n_keys, "attention_received: candidate ", c, " outside the keys");
    const int64_t group = h.q_heads / h.kv_heads, D = h.head_dim;
    const double scale = 1.0 / std::sqrt(double(D));
    std::vector<double> out(candidates.size(), 0.0);
    std::vector<double> logit(static_cast<size_t>(n_keys));
    for (int64_t r : query_rows)
        for (int64_t head = 0; head < h.q_heads; ++head) {
            const float* qr = q + r * h.q_stride + head * D;
            const float* kh = keys + (head / group) * D;
            double top = -INFINITY;
            for (int64_t j = 0; j < n_keys; ++j) {
                double dot = 0;
                for (int64_t d = 0; d < D; ++d) dot += double(qr[d]) * kh[j * h.k_stride + d];
                logit[size_t(j)] = dot * scale;
                top = std::max(top, logit[size_t(j)]);
            }
            double sum = 0;
            for (double& x : logit) sum += (x = std::exp(x - top));
            for (size_t c = 0; c < candidates.size(); ++c) out[c] += logit[size_t(candidates[c])] / sum;
        }
    return out;
}

std::vector<int64_t> image_keys(std::span<const int64_t> ids, int64_t image_id, const std::vector<int64_t>* cached,
                                int64_t first, int64_t len) {
    std::vector<int64_t> out;
    const int64_t P = int64_t(ids.size());
    if (cached) {
        for (int64_t p : *cached)
            if (ids[size_t(p)] == image_id) out.push_back(p);
        return out;
    }
    for (int64_t r = 0; r < len; ++r)
        if (first + r < P && ids[size_t(first + r)] == image_id) out.push_back(r);
    return out;
}

std::vector<int64_t> least_attended(std::span<const int64_t> candidates, std::span<const double> scores, int64_t keep) {
    check(candidates.size() == scores.size(), "least_attended: a score per candidate");
    std::vector<size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::vector<int64_t> dropped;
    for (size_t i = size_t(std::clamp<int64_t>(keep, 0, int64_t(order.size()))); i < order.size(); ++i)
        dropped.push_back(candidates[order[i]]);
    std::sort(dropped.begin(), dropped.end());
    return dropped;
}

}  // namespace dimple
