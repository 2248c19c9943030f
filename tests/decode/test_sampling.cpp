#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "decode/sampling.h"

using namespace dimple;

TEST(Sampling, ArgmaxWithOriginalOrFilteredConfidence) {
    // Probabilities ~ [0.5, 0.3, 0.2] before filtering; top_k = 1 leaves only token 0.
    std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    Rng rng(1);
    SamplingScratch s;
    TokenChoice c = choose_token(logits.data(), 3, {0.f, std::nullopt, 1}, ConfidenceKind::Probability, true, rng, s);
    EXPECT_EQ(c.token, 0);
    EXPECT_NEAR(c.confidence, 0.5f, 1e-6);
    c = choose_token(logits.data(), 3, {0.f, std::nullopt, 1}, ConfidenceKind::Probability, false, rng, s);
    EXPECT_NEAR(c.confidence, 1.0f, 1e-6);
    c = choose_token(logits.data(), 3, {0.f, std::nullopt, std::nullopt}, ConfidenceKind::Margin, true, rng, s);
    EXPECT_NEAR(c.confidence, 0.2f, 1e-6);
    c = choose_token(logits.data(), 3, {0.f, std::nullopt, std::nullopt}, ConfidenceKind::NegEntropy, true, rng, s);
    EXPECT_NEAR(c.confidence, 0.5 * std::log(0.5) + 0.3 * std::log(0.3) + 0.2 * std::log(0.2), 1e-5);
}

// Greedy choice with the unfiltered softmax's confidence skips top-p/top-k: the result must be the
// same as with no filters, on flat and peaky logits, with ties at the top, for every confidence kind.
TEST(Sampling, GreedyWithOriginalConfidenceIgnoresTheFilters) {
    std::mt19937 gen(7);
    for (int64_t V : {5, 1000, 152064}) {
        for (float spread : {0.01f, 1.f, 8.f}) {
            std::normal_distribution<float> d(0.f, spread);
            std::vector<float> logits(static_cast<size_t>(V));
            for (float& x : logits) x = d(gen);
            logits[size_t(V / 2)] = logits[size_t(V / 3)] = *std::max_element(logits.begin(), logits.end()) + 0.5f;
            for (ConfidenceKind kind : {ConfidenceKind::Probability, ConfidenceKind::Margin, ConfidenceKind::NegEntropy}) {
                Rng rng(1);
                SamplingScratch s;
                // Unfiltered and scored on the processed softmax (the full path; equal to the
                // original softmax here) against filtered with the original confidence (the skip).
                const TokenChoice plain =
                    choose_token(logits.data(), V, {0.f, std::nullopt, std::nullopt}, kind, false, rng, s);
                const TokenChoice filtered = choose_token(logits.data(), V, {0.f, 0.9f, 50}, kind, true, rng, s);
                EXPECT_EQ(plain.token, V / 3) << "first of the tied maxima";
                EXPECT_EQ(filtered.token, plain.token);
                EXPECT_EQ(filtered.confidence, plain.confidence);
            }
        }
    }
}

TEST(Sampling, TopPKeepsTheSmallestPrefixAboveP) {
    std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    Rng rng(1);
    SamplingScratch s;
    // p = 0.6: cumulative 0.5, 0.8 -> tokens 0 and 1 stay; renormalised p(0) = 0.625.
    TokenChoice c = choose_token(logits.data(), 3, {0.f, 0.6f, std::nullopt}, ConfidenceKind::Probability, false, rng, s);
    EXPECT_NEAR(c.confidence, 0.625f, 1e-5);
    // p = 0.4: the first token alone already exceeds it, and is always kept.
    c = choose_token(logits.data(), 3, {0.f, 0.4f, std::nullopt}, ConfidenceKind::Probability, false, rng, s);
    EXPECT_NEAR(c.confidence, 1.0f, 1e-6);
}

TEST(Sampling, TemperatureDrawsFollowTheDistribution) {
    std::vector<float> logits = {0.f, std::log(3.f)};  // p = [0.25, 0.75]
    Rng rng(7);
    SamplingScratch s;
    int ones = 0;
    for (int i = 0; i < 4000; ++i)
        ones += choose_token(logits.data(), 2, {1.f, std::nullopt, std::nullopt}, ConfidenceKind::Probability, true, rng, s).token == 1;
    EXPECT_NEAR(ones / 4000.0, 0.75, 0.03);
}

// A temperature so small that logits over it overflow a float (1e-40 is a denormal) samples as its
// limit, greedy, instead of drawing from a NaN distribution (it answered token 0, "!").
TEST(Sampling, TemperaturesTooSmallForFloatsAreGreedy) {
    const std::vector<float> logits = {-3.f, 2.f, 7.5f, 1.f};
    SamplingScratch s;
    for (float t : {1e-45f, 1e-40f, 1e-38f, 1e-37f, 1e-30f})
        for (std::optional<float> top_p : {std::optional<float>(), std::optional<float>(0.9f)}) {
            Rng rng(1);
            const TokenChoice greedy = choose_token(logits.data(), 4, {0.f, top_p, std::nullopt},
                                                    ConfidenceKind::Probability, false, rng, s);
            const TokenChoice c = choose_token(logits.data(), 4, {t, top_p, std::nullopt}, ConfidenceKind::Probability,
                                               false, rng, s);
            EXPECT_EQ(c.token, 2) << t;
            EXPECT_TRUE(std::isfinite(c.confidence)) << t;
            if (t < 1e-37f) {
                EXPECT_EQ(c.confidence, greedy.confidence) << t;
            }
        }
}

TEST(Sampling, TopPOnALargeVocabularyMatchesAFullSort) {
    // The filter sorts only the prefix it keeps; compare its distribution with a full sort's.
    std::mt19937 gen(3);
    for (float scale : {0.5f, 3.f}) {
        for (float p : {0.3f, 0.9f, 0.99f}) {
            std::normal_distribution<float> d(0.f, scale);
            std::vector<float> logits(5000);
            for (float& x : logits) x = d(gen);
            std::vector<size_t> order(logits.size());
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
            double z = 0;
            for (float x : logits) z += std::exp(double(x));
            double cum = 0;
            size_t kept = 0;
            while (kept < order.size()) {
                cum += std::exp(double(logits[order[kept++]])) / z;
                if (cum > p) break;
            }
            double kept_z = 0;
            for (size_t i = 0; i < kept; ++i) kept_z += std::exp(double(logits[order[i]]));
            Rng rng(1);
            SamplingScratch s;
            const TokenChoice c = choose_token(logits.data(), int64_t(logits.size()), {0.f, p, std::nullopt},
                                               ConfidenceKind::Probability, false, rng, s);
            EXPECT_EQ(size_t(c.token), order[0]);
            EXPECT_NEAR(c.confidence, std::exp(double(logits[order[0]])) / kept_z, 1e-5) << scale << " " << p;
        }
    }
}
