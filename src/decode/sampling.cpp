#include "decode/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/fast_exp.h"
#include "kernels/ops.h"

namespace dimple {

namespace {

constexpr float kRemoved = std::numeric_limits<float>::lowest();  // torch.finfo(float32).min

// Keeps the smallest prefix of tokens (by descending logit) whose cumulative probability exceeds
// p, always keeping the first; the rest get kRemoved. Only the kept prefix needs sorting: the
// denominator comes from one pass over all logits, and the sorted prefix grows until the cumulative
// probability passes p (so this costs O(V) per position, not a full sort of the vocabulary).
void top_p_filter(std::vector<float>& l, float p, std::vector<int32_t>& order) {
    const size_t V = l.size();
    const float mx = *std::max_element(l.begin(), l.end());
    float z = 0.f;
#pragma omp simd reduction(+ : z)
    for (size_t i = 0; i < V; ++i) z += fast_exp(l[i] - mx);
    order.resize(V);
    std::iota(order.begin(), order.end(), 0);
    auto by_logit = [&](int32_t a, int32_t b) { return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b); };
    size_t sorted = 0, kept = V;
    float cum = 0.f;
    for (size_t want = std::min<size_t>(V, 64); kept == V && sorted < V; want = std::min(V, want * 4)) {
        std::partial_sort(order.begin() + long(sorted), order.begin() + long(want), order.end(), by_logit);
        for (; sorted < want; ++sorted) {
            cum += fast_exp(l[size_t(order[sorted])] - mx) / z;
            if (cum > p) {  // this token is the last one kept
                kept = sorted + 1;
                break;
            }
        }
    }
    for (size_t i = kept; i < V; ++i) l[size_t(order[i])] = kRemoved;
}

void top_k_filter(std::vector<float>& l, int k, std::vector<float>& tmp) {
    const size_t V = l.size();
    if (k <= 0 || size_t(k) >= V) return;
    tmp = l;
    std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end(), std::greater<float>());
    const float kth = tmp[size_t(k - 1)];
    for (float& x : l)
        if (x < kth) x = kRemoved;
}

int64_t argmax(const std::vector<float>& p) {
    return int64_t(std::max_element(p.begin(), p.end()) - p.begin());  // first of equal maxima
}

}  // namespace

TokenChoice choose_token(const float* logits, int64_t vocab, const SamplingOptions& opt,
                         ConfidenceKind kind, bool original_confidence, Rng& rng, SamplingScratch& s) {
    TokenChoice c;
    const std::vector<float>* p = &s.original;
    if (opt.temperature == 0 && original_confidence) {
        // Greedy with the unfiltered softmax's confidence: top-p and top-k always keep the most
        // likely token, which argmax picks, so they change nothing here and are skipped (on a flat
        // distribution over a 152k vocabulary they are the slowest part of a step).
        s.original.assign(logits, logits + vocab);
        softmax(s.original.data(), vocab);
        c.token = argmax(s.original);
    } else {
        std::vector<float>& l = s.processed;
        l.assign(logits, logits + vocab);
        if (opt.temperature > 0)
            for (float& x : l) x /= opt.temperature;
        if (opt.top_p && *opt.top_p < 1.f) top_p_filter(l, *opt.top_p, s.order);
        if (opt.top_k) top_k_filter(l, *opt.top_k, s.original);
        softmax(l.data(), vocab);  // l now holds the processed probabilities
        if (opt.temperature > 0) {
            std::discrete_distribution<int64_t> draw(l.begin(), l.end());
            c.token = draw(rng);
        } else {
            c.token = argmax(l);
        }
        p = &l;
        if (original_confidence) {
            s.original.assign(logits, logits + vocab);
            softmax(s.original.data(), vocab);
            p = &s.original;
        }
    }
    switch (kind) {
        case ConfidenceKind::Probability: c.confidence = (*p)[size_t(c.token)]; break;
        case ConfidenceKind::Margin: {
            float a = -1.f, b = -1.f;  // the two largest probabilities
            for (float x : *p) {
                if (x > a) b = a, a = x;
                else if (x > b) b = x;
            }
            c.confidence = a - b;
            break;
        }
        case ConfidenceKind::NegEntropy: {
            float sum = 0.f;
            for (float x : *p) sum += x * std::log(x + 1e-10f);
            c.confidence = sum;
            break;
        }
    }
    return c;
}

}  // namespace dimple
