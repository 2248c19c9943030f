// The token choice of decode/sampling.h, compiled once per instruction set (core/isa.h): its passes
// over the vocabulary (maxima, the normaliser's exp, the entropy's log) are a kernel of their own.
#include "decode/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/isa.h"
#include "kernels/fast_exp.h"
#include "kernels/fast_log.h"
#include "kernels/ops.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

namespace {

constexpr float kRemoved = std::numeric_limits<float>::lowest();  // torch.finfo(float32).min

float max_of(const float* x, size_t n) {
    float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
    for (size_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    return mx;
}

// The filters' order: descending logit, ties to the lower index. A strict total order, so sorting
// any upper set of the tokens gives a prefix of the full sort.
struct ByLogit {
    const float* l;
    bool operator()(int32_t a, int32_t b) const {
        return l[a] > l[b] || (l[a] == l[b] && a < b);
    }
};

// At least n tokens with the largest logits, and every token at or above the smallest of them,
// sorted ByLogit. The threshold is the smallest of n block maxima: those are n distinct tokens, so
// at least n reach it, and on real logits only a few times n do; one pass collects them and only
// they are sorted (a full sort of 152k indices per masked row was the slowest part of a step).
void top_tokens(const std::vector<float>& l, size_t n, std::vector<int32_t>& out) {
    const size_t V = l.size();
    float threshold = -std::numeric_limits<float>::infinity();
    if (n * 16 <= V) {  // blocks of at least 16 tokens; otherwise every token is a candidate
        const size_t block = V / n;
        threshold = std::numeric_limits<float>::infinity();
        for (size_t b = 0; b < n; ++b) {
            const size_t begin = b * block, end = b + 1 == n ? V : begin + block;
            threshold = std::min(threshold, max_of(l.data() + begin, end - begin));
        }
    }
    out.clear();
    for (size_t i = 0; i < V; ++i)
        if (l[i] >= threshold) out.push_back(int32_t(i));
    std::sort(out.begin(), out.end(), ByLogit{l.data()});
}

// The tokens top-p then top-k keep, sorted ByLogit, into `kept`; false when no filter applies or
// top-p's sum never passes p. Top-p keeps the smallest prefix whose cumulative probability exceeds
// p, with the arithmetic of a full sort (the denominator in one vectorised pass, the cumulative sum
// in sorted order), so it keeps the same tokens to the bit. Top-k, applied to what top-p left,
// keeps the tokens at or above the k-th largest logit: the top-p prefix when it ends within the k
// largest (ties with the k-th included), else those k.
bool filter(const std::vector<float>& l, const SamplingOptions& opt, std::vector<int32_t>& kept) {
    const size_t V = l.size();
    const bool by_p = opt.top_p && *opt.top_p < 1.f;
    const bool by_k = opt.top_k && *opt.top_k > 0 && size_t(*opt.top_k) < V;
    if (!by_p && !by_k) return false;
    float mx = 0.f, z = 0.f;
    if (by_p) {
        mx = max_of(l.data(), V);
#pragma omp simd reduction(+ : z)
        for (size_t i = 0; i < V; ++i) z += fast_exp(l[i] - mx);
    }
    // Top-p alone does not know how many tokens its prefix holds: widen the candidates until it ends.
    for (size_t n = by_k ? size_t(*opt.top_k) : 64;; n = std::min(V, n * 4)) {
        top_tokens(l, n, kept);
        if (by_k) {
            const size_t k = size_t(*opt.top_k);
            const float kth = l[size_t(kept[k - 1])];
            size_t count = k;
            while (count < kept.size() && l[size_t(kept[count])] >= kth) ++count;
            kept.resize(count);
        }
        if (!by_p) return true;
        float cum = 0.f;
        for (size_t j = 0; j < kept.size(); ++j) {
            cum += fast_exp(l[size_t(kept[j])] - mx) / z;
            if (cum > *opt.top_p) {  // this token is the last one kept
                kept.resize(j + 1);
                return true;
            }
        }
        if (by_k) return true;               // the top-p prefix holds all of the top k
        if (kept.size() == V) return false;  // the sum never passes p (rounding): nothing removed
    }
}

int64_t argmax(const std::vector<float>& p) {
    const float mx = max_of(p.data(), p.size());
    const auto at = std::find(p.begin(), p.end(), mx);  // first of equal maxima
    return at == p.end() ? 0 : int64_t(at - p.begin());  // no maximum: the row is all NaN
}

// A uniform double in [0, 1) from the top 53 bits of one draw (the same on every standard library,
// unlike std::uniform_real_distribution).
double uniform(Rng& rng) { return double(rng() >> 11) * 0x1.0p-53; }

// The token whose interval of the cumulative probability holds u * total, over `tokens` (every
// token when null); tokens of probability 0 are never drawn.
int64_t draw(const std::vector<float>& p, const std::vector<int32_t>* tokens, double u, std::vector<double>& cum) {
    const size_t n = tokens ? tokens->size() : p.size();
    auto token = [&](size_t j) { return tokens ? size_t((*tokens)[j]) : j; };
    cum.resize(n);
    double total = 0;
    for (size_t j = 0; j < n; ++j) cum[j] = total += double(p[token(j)]);
    auto at = std::upper_bound(cum.begin(), cum.end(), u * total);
    if (at == cum.end()) at = std::lower_bound(cum.begin(), cum.end(), total);  // u * total rounded up
    return int64_t(token(std::min(size_t(at - cum.begin()), n - 1)));
}

float confidence(const std::vector<float>& p, int64_t token, ConfidenceKind kind) {
    const size_t n = p.size();
    switch (kind) {
        case ConfidenceKind::Probability: return p[size_t(token)];
        case ConfidenceKind::Margin: {
            // The two largest probabilities; the second equals the first when the maximum repeats.
            const float a = max_of(p.data(), n);
            const size_t first = size_t(std::find(p.begin(), p.end(), a) - p.begin());
            float b = -1.f;
#pragma omp simd reduction(max : b)
            for (size_t i = 0; i < n; ++i) b = std::max(b, i == first ? -1.f : p[i]);
            return a - b;
        }
        case ConfidenceKind::NegEntropy: {
            float sum = 0.f;
#pragma omp simd reduction(+ : sum)
            for (size_t i = 0; i < n; ++i) sum += p[i] * fast_log(p[i] + 1e-10f);
            return sum;
        }
    }
    return 0.f;
}

}  // namespace

bool processed_probabilities(const float* logits, int64_t vocab, const SamplingOptions& opt, SamplingScratch& s) {
    const size_t V = size_t(vocab);
    std::vector<float>& l = s.processed;
    l.resize(V);
    if (opt.temperature > 0) {
        const float t = opt.temperature;
#pragma omp simd
        for (size_t i = 0; i < V; ++i) l[i] = logits[i] / t;  // divide, as torch does
    } else {
        std::copy_n(logits, V, l.begin());
    }
    const bool filtered = filter(l, opt, s.kept) && s.kept.size() < V;
    if (filtered) {  // the removed tokens' logits become kRemoved, the kept ones stay
        s.kept_logits.resize(s.kept.size());
        for (size_t j = 0; j < s.kept.size(); ++j) s.kept_logits[j] = l[size_t(s.kept[j])];
        std::fill(l.begin(), l.end(), kRemoved);
        for (size_t j = 0; j < s.kept.size(); ++j) l[size_t(s.kept[j])] = s.kept_logits[j];
    }
    softmax(l.data(), vocab);  // exp(kRemoved - max) is exactly 0
    return filtered;
}

namespace {

// Whether logits / temperature leaves the floats: then the distribution is the one temperature -> 0
// tends to (everything on the largest logit), and dividing would give infinities whose softmax is
// NaN (temperatures around 1e-40 answered garbage). Logits are far below 1e18, so only
// temperatures under 1e-20 need the pass over the row.
bool temperature_overflows(const float* logits, int64_t vocab, float t) {
    if (!(t > 0) || t >= 1e-20f) return false;
    float largest = 0.f;
#pragma omp simd reduction(max : largest)
    for (int64_t i = 0; i < vocab; ++i) largest = std::max(largest, std::fabs(logits[i]));
    return !(largest / t <= std::numeric_limits<float>::max());
}

}  // namespace

TokenChoice choose_token(const float* logits, int64_t vocab, const SamplingOptions& options,
                         ConfidenceKind kind, bool original_confidence, Rng& rng, SamplingScratch& s) {
    SamplingOptions opt = options;
    if (temperature_overflows(logits, vocab, opt.temperature)) opt.temperature = 0.f;
    TokenChoice c;
    const std::vector<float>* p = &s.original;
    if (opt.temperature == 0 && original_confidence) {
        // Greedy with the unfiltered softmax's confidence: top-p and top-k always keep the most
        // likely token, which argmax picks, so they change nothing here and are skipped.
        s.original.assign(logits, logits + vocab);
        softmax(s.original.data(), vocab);
        c.token = argmax(s.original);
    } else {
        // Qualified, as below: lookup by the arguments' namespace would also find dimple's entry point.
        const bool filtered = DIMPLE_ISA::processed_probabilities(logits, vocab, opt, s);
        c.token = opt.temperature > 0 ? draw(s.processed, filtered ? &s.kept : nullptr, uniform(rng), s.cumulative)
                                      : argmax(s.processed);
        p = &s.processed;
        if (original_confidence) {
            s.original.assign(logits, logits + vocab);
            softmax(s.original.data(), vocab);
            p = &s.original;
        }
    }
    c.confidence = confidence(*p, c.token, kind);
    return c;
}

std::vector<TokenChoice> choose_tokens(const float* logits, int64_t rows, int64_t vocab, const SamplingOptions& opt,
                                       ConfidenceKind kind, bool original_confidence, uint64_t seed, int64_t step,
                                       const std::vector<int64_t>& row_ids) {
    check(int64_t(row_ids.size()) == rows, "choose_tokens: ", row_ids.size(), " row ids for ", rows, " rows");
    std::vector<TokenChoice> out(static_cast<size_t>(rows));
#pragma omp parallel if (rows > 1 && rows * vocab > 65536)
    {
        SamplingScratch s;  // one per thread
#pragma omp for schedule(dynamic)
        for (int64_t k = 0; k < rows; ++k) {
            Rng rng = row_rng(seed, step, row_ids[size_t(k)]);
            out[size_t(k)] = DIMPLE_ISA::choose_token(logits + k * vocab, vocab, opt, kind, original_confidence, rng, s);
        }
    }
    return out;
}

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
