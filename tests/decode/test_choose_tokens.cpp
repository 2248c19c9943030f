// The processed distribution against a full-sort reference (ties, k >= V, p = 1), the draw's
// frequencies, and the per-row random streams that make choose_tokens independent of thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/threads.h"
#include "decode/sampling.h"
#include "kernels/ops.h"

using namespace dimple;

namespace {

// The original's processing, written the plain way: logits / temperature, a full sort of the tokens
// (descending logit, ties to the lower index) into `order`, top-p on it with the cumulative sum in
// double, top-k by nth_element over what top-p left, softmax in double. `ambiguous` is set when the
// cumulative sum comes within float rounding of p (the engine sums in float, as the original does,
// so there the two may keep prefixes of different lengths).
std::vector<double> reference(const std::vector<float>& logits, const SamplingOptions& opt, std::vector<size_t>& order,
                              bool* ambiguous) {
    const size_t V = logits.size();
    std::vector<float> l(logits);
    if (opt.temperature > 0)
        for (float& x : l) x /= opt.temperature;
    const float removed = std::numeric_limits<float>::lowest();
    order.resize(V);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    *ambiguous = false;
    if (opt.top_p && *opt.top_p < 1.f) {
        const double mx = l[order[0]];
        double z = 0, cum = 0;
        for (float x : l) z += std::exp(double(x) - mx);
        size_t kept = V;
        for (size_t j = 0; j < V; ++j) {
            cum += std::exp(double(l[order[j]]) - mx) / z;
            if (std::abs(cum - *opt.top_p) < 1e-5 + 1e-7 * double(j + 1)) *ambiguous = true;
            if (cum > *opt.top_p) {
                kept = j + 1;
                break;
            }
        }
        for (size_t j = kept; j < V; ++j) l[order[j]] = removed;
    }
    if (opt.top_k && *opt.top_k > 0 && size_t(*opt.top_k) < V) {
        std::vector<float> tmp(l);
        std::nth_element(tmp.begin(), tmp.begin() + (*opt.top_k - 1), tmp.end(), std::greater<float>());
        const float kth = tmp[size_t(*opt.top_k - 1)];
        for (float& x : l)
            if (x < kth) x = removed;
    }
    const double mx = *std::max_element(l.begin(), l.end());
    std::vector<double> p(V);
    double z = 0;
    for (size_t i = 0; i < V; ++i) z += p[i] = l[i] == removed ? 0.0 : std::exp(double(l[i]) - mx);
    for (double& x : p) x /= z;
    return p;
}

std::vector<float> random_logits(size_t V, float spread, uint32_t seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> d(0.f, spread);
    std::vector<float> l(V);
    for (float& x : l) x = d(gen);
    return l;
}

// Expects the surviving tokens to be a prefix of the full sort's order always, and away from an
// ambiguous top-p boundary the reference's tokens exactly, with its probabilities; returns whether
// that second comparison ran.
bool expect_matches_reference(const std::vector<float>& logits, const SamplingOptions& opt) {
    std::vector<size_t> order;
    bool ambiguous = false;
    const std::vector<double> ref = reference(logits, opt, order, &ambiguous);
    SamplingScratch s;
    const bool filtered = processed_probabilities(logits.data(), int64_t(logits.size()), opt, s);
    if (filtered) {
        for (size_t j = 0; j < s.kept.size(); ++j) EXPECT_EQ(size_t(s.kept[j]), order[j]) << "kept token " << j;
    }
    if (ambiguous) return false;
    size_t removed = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        removed += ref[i] == 0.0;
        EXPECT_EQ(s.processed[i] == 0.f, ref[i] == 0.0) << "token " << i;
        EXPECT_NEAR(s.processed[i], ref[i], 1e-6 + 1e-5 * ref[i]) << "token " << i;
    }
    EXPECT_EQ(filtered, removed > 0);
    if (filtered) {
        EXPECT_EQ(s.kept.size(), ref.size() - removed);
    }
    return true;
}

}  // namespace

TEST(ChooseTokens, ProcessedDistributionMatchesAFullSort) {
    const std::vector<SamplingOptions> options = {
        {0.2f, 0.95f, 50}, {0.7f, 0.9f, 50}, {1.f, 0.5f, 0}, {1.f, 0.99f, 0}, {1.f, std::nullopt, 50},
        {1.f, std::nullopt, 1}, {0.f, 0.9f, 5}, {1.f, 0.3f, 1000}, {1.f, 0.9f, 3}};
    int compared = 0, cases = 0;
    for (size_t V : {7ul, 1000ul, 152064ul}) {
        for (float spread : {0.01f, 1.f, 8.f}) {
            std::vector<float> logits = random_logits(V, spread, uint32_t(V) + uint32_t(spread * 100));
            // Ties at the top and around the 3rd and 50th largest logits.
            std::vector<float> sorted(logits);
            std::sort(sorted.begin(), sorted.end(), std::greater<float>());
            for (size_t i = 0; i < V; i += V / 5 + 1) logits[i] = sorted[std::min<size_t>(2, V - 1)];
            if (V > 100) logits[V - 1] = logits[V / 2] = sorted[49];
            for (const SamplingOptions& opt : options) {
                ++cases;
                compared += expect_matches_reference(logits, opt);
            }
        }
    }
    EXPECT_GE(compared, cases * 2 / 3) << "too many ambiguous top-p boundaries to be a test";
}

TEST(ChooseTokens, TiesAtTheTopKBoundaryAreAllKept) {
    const std::vector<float> logits = {1.f, 3.f, 3.f, 3.f, 0.f, 2.f};
    SamplingScratch s;
    EXPECT_TRUE(processed_probabilities(logits.data(), 6, {1.f, std::nullopt, 2}, s));
    EXPECT_EQ(s.processed, (std::vector<float>{0.f, 1.f / 3, 1.f / 3, 1.f / 3, 0.f, 0.f}));
    EXPECT_EQ(s.kept, (std::vector<int32_t>{1, 2, 3}));
}

TEST(ChooseTokens, TopPEndingInsideATieKeepsTheLowerIndices) {
    // p = [0.3, 0.2, 0.2, 0.2, 0.1]: the cumulative 0.5 passes 0.45 at token 1, whose ties stay out.
    std::vector<float> logits;
    for (float p : {0.3f, 0.2f, 0.2f, 0.2f, 0.1f}) logits.push_back(std::log(p));
    SamplingScratch s;
    EXPECT_TRUE(processed_probabilities(logits.data(), 5, {1.f, 0.45f, std::nullopt}, s));
    EXPECT_EQ(s.kept, (std::vector<int32_t>{0, 1}));
    EXPECT_NEAR(s.processed[0], 0.6f, 1e-6);
    EXPECT_NEAR(s.processed[1], 0.4f, 1e-6);
    EXPECT_EQ(s.processed[2], 0.f);
}

TEST(ChooseTokens, FiltersThatKeepEverythingRemoveNothing) {
    const std::vector<float> logits = random_logits(300, 2.f, 5);
    std::vector<float> plain(logits);
    softmax(plain.data(), 300);
    for (const SamplingOptions& opt : {SamplingOptions{1.f, 1.f, 300}, SamplingOptions{1.f, std::nullopt, 1000},
                                       SamplingOptions{1.f, std::nullopt, 0}}) {
        SamplingScratch s;
        EXPECT_FALSE(processed_probabilities(logits.data(), 300, opt, s));
        EXPECT_EQ(s.processed, plain);
    }
}

// Many rows with the same logits: each row's stream draws once, so the rows' tokens are a sample
// of the processed distribution. Chi-square with at most 5 degrees of freedom: 30 is beyond its
// 99.99% quantile (25.7), and the seed is fixed, so this fails only when the draw is wrong.
TEST(ChooseTokens, DrawFrequenciesMatchTheProcessedProbabilities) {
    const std::vector<float> logits = {0.5f, 2.f, -1.f, 1.5f, 0.f, 1.f};
    const int64_t rows = 30000, V = 6;
    std::vector<float> all;
    for (int64_t r = 0; r < rows; ++r) all.insert(all.end(), logits.begin(), logits.end());
    std::vector<int64_t> ids(rows);
    std::iota(ids.begin(), ids.end(), 0);
    for (const SamplingOptions& opt : {SamplingOptions{0.9f, 0.9f, 4}, SamplingOptions{1.3f, std::nullopt, 0}}) {
        SamplingScratch s;
        processed_probabilities(logits.data(), V, opt, s);
        const std::vector<float> p = s.processed;
        const auto got = choose_tokens(all.data(), rows, V, opt, ConfidenceKind::Probability, false, 11, 0, ids);
        std::vector<double> count(V);
        for (const TokenChoice& c : got) {
            count[size_t(c.token)] += 1;
            EXPECT_EQ(c.confidence, p[size_t(c.token)]);
        }
        double chi2 = 0;
        for (int64_t i = 0; i < V; ++i) {
            if (p[size_t(i)] == 0.f) {
                EXPECT_EQ(count[size_t(i)], 0) << "a removed token was drawn";
                continue;
            }
            const double expected = p[size_t(i)] * double(rows);
            chi2 += (count[size_t(i)] - expected) * (count[size_t(i)] - expected) / expected;
        }
        EXPECT_LT(chi2, 30.0);
    }
}

TEST(ChooseTokens, SameChoicesForOneAndTwoThreadsAndPerRowStreams) {
    const int64_t rows = 33, V = 4000;
    const std::vector<float> logits = random_logits(size_t(rows * V), 3.f, 21);
    std::vector<int64_t> ids(rows);
    for (int64_t r = 0; r < rows; ++r) ids[size_t(r)] = 100 + 2 * r;
    const int threads_before = num_threads();
    for (const SamplingOptions& opt :
         {SamplingOptions{0.8f, 0.9f, 50}, SamplingOptions{1.f, std::nullopt, 0}, SamplingOptions{0.f, 0.9f, 50}}) {
        for (ConfidenceKind kind : {ConfidenceKind::Probability, ConfidenceKind::Margin, ConfidenceKind::NegEntropy}) {
            set_num_threads(1);
            const auto one = choose_tokens(logits.data(), rows, V, opt, kind, true, 5, 2, ids);
            set_num_threads(2);
            const auto two = choose_tokens(logits.data(), rows, V, opt, kind, true, 5, 2, ids);
            SamplingScratch s;
            for (int64_t r = 0; r < rows; ++r) {
                EXPECT_EQ(one[size_t(r)].token, two[size_t(r)].token);
                EXPECT_EQ(one[size_t(r)].confidence, two[size_t(r)].confidence);
                Rng rng = row_rng(5, 2, ids[size_t(r)]);  // the row's own stream, whoever runs it
                const TokenChoice alone = choose_token(logits.data() + r * V, V, opt, kind, true, rng, s);
                EXPECT_EQ(alone.token, one[size_t(r)].token);
                EXPECT_EQ(alone.confidence, one[size_t(r)].confidence);
            }
        }
    }
    set_num_threads(threads_before);
    // Another seed or step gives other draws (on flat rows, where a draw has many outcomes).
    const std::vector<float> flat = random_logits(size_t(rows * V), 0.1f, 22);
    const SamplingOptions t1{1.f, std::nullopt, 0};
    const auto a = choose_tokens(flat.data(), rows, V, t1, ConfidenceKind::Probability, true, 5, 2, ids);
    const auto b = choose_tokens(flat.data(), rows, V, t1, ConfidenceKind::Probability, true, 6, 2, ids);
    const auto c = choose_tokens(flat.data(), rows, V, t1, ConfidenceKind::Probability, true, 5, 3, ids);
    int same_b = 0, same_c = 0;
    for (int64_t r = 0; r < rows; ++r) {
        same_b += a[size_t(r)].token == b[size_t(r)].token;
        same_c += a[size_t(r)].token == c[size_t(r)].token;
    }
    EXPECT_LT(same_b, 3);
    EXPECT_LT(same_c, 3);
}
