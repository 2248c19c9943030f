#include "decode/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/ops.h"

namespace dimple {

namespace {

constexpr float kRemoved = std::numeric_limits<float>::lowest();  // torch.finfo(float32).min

// Keeps the smallest prefix of tokens (by descending logit) whose cumulative probability exceeds
// p, always keeping the first; the rest get kRemoved.
void top_p_filter(std::vector<float>& l, float p, std::vector<int32_t>& order) {
    const size_t V = l.size();
    order.resize(V);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[size_t(a)] > l[size_t(b)]; });
    std::vector<float> sorted(V);
    for (size_t i = 0; i < V; ++i) sorted[i] = l[size_t(order[i])];
    softmax(sorted.data(), int64_t(V));
    float cum = 0.f;
    bool remove_next = false;  // the removal mask is shifted right by one
    for (size_t i = 0; i < V; ++i) {
        const bool remove = remove_next && i > 0;
        cum += sorted[i];
        remove_next = cum > p;
        if (remove) l[size_t(order[i])] = kRemoved;
    }
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
    std::vector<float>& l = s.processed;
    l.assign(logits, logits + vocab);
    if (opt.temperature > 0)
        for (float& x : l) x /= opt.temperature;
    if (opt.top_p && *opt.top_p < 1.f) top_p_filter(l, *opt.top_p, s.order);
    if (opt.top_k) top_k_filter(l, *opt.top_k, s.original);
    softmax(l.data(), vocab);  // l now holds the processed probabilities

    TokenChoice c;
    if (opt.temperature > 0) {
        std::discrete_distribution<int64_t> draw(l.begin(), l.end());
        c.token = draw(rng);
    } else {
        c.token = argmax(l);
    }
    const std::vector<float>* p = &l;
    if (original_confidence) {
        s.original.assign(logits, logits + vocab);
        softmax(s.original.data(), vocab);
        p = &s.original;
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
