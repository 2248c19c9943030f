#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "random_data.h"

using namespace dimple;
using dtest::randn;

namespace {


// Dense double-precision attention with an explicit visibility predicate.
template <typename Visible>
std::vector<double> reference(const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, const AttentionShape& s, Visible visible) {
    std::vector<double> out(size_t(s.q_len * s.q_heads * s.head_dim), 0.0);
    const int64_t group = s.q_heads / s.kv_heads, D = s.head_dim;
    for (int64_t h = 0; h < s.q_heads; ++h)
        for (int64_t i = 0; i < s.q_len; ++i) {
            std::vector<double> sc(size_t(s.kv_len), -INFINITY);
            double mx = -INFINITY;
            for (int64_t j = 0; j < s.kv_len; ++j) {
                if (!visible(i, j)) continue;
                double dot = 0;
                for (int64_t c = 0; c < D; ++c)
                    dot += double(q[size_t(i * s.q_stride + h * D + c)]) *
                           k[size_t(j * s.k_stride + (h / group) * D + c)];
                sc[size_t(j)] = dot / std::sqrt(double(D));
                mx = std::max(mx, sc[size_t(j)]);
            }
            double z = 0;
            for (auto& x : sc) z += (x = std::exp(x - mx));
            for (int64_t j = 0; j < s.kv_len; ++j)
                for (int64_t c = 0; c < D; ++c)
                    out[size_t(i * s.q_heads * D + h * D + c)] +=
                        sc[size_t(j)] / z * v[size_t(j * s.v_stride + (h / group) * D + c)];
        }
    return out;
}

}  // namespace

class AttentionShapes : public ::testing::TestWithParam<std::tuple<int, int, int, int, int>> {};

TEST_P(AttentionShapes, MatchesDoubleReference) {
    const auto [lq, lk, hq, hkv, d] = GetParam();
    AttentionShape s{lq, lk, hq, hkv, d, hq * d, hkv * d, hkv * d, hq * d};
    const auto q = randn(size_t(lq * hq * d), 1, 2.f), k = randn(size_t(lk * hkv * d), 2, 2.f),
               v = randn(size_t(lk * hkv * d), 3);
    std::vector<float> out(size_t(lq * hq * d));
    attention(q.data(), k.data(), v.data(), out.data(), s);
    const auto ref = reference(q, k, v, s, [](int64_t, int64_t) { return true; });
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref[i], 2e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionShapes,
                         ::testing::Values(std::make_tuple(1, 1, 1, 1, 16), std::make_tuple(5, 9, 4, 2, 16),
                                           std::make_tuple(20, 20, 4, 4, 32), std::make_tuple(3, 40, 6, 2, 128),
                                           // several query and key blocks, shorter last ones
                                           std::make_tuple(150, 1200, 4, 2, 16),
                                           // the vision tower's head size; 7 query heads per kv head
                                           std::make_tuple(70, 130, 7, 1, 80),
                                           // a head size under one vector (padded inside)
                                           std::make_tuple(9, 200, 2, 2, 8)));

TEST(Attention, PaddingRuleKeepsTheDiagonal) {
    // Keys 0..5 are the query rows' own tokens (queries are the last 4 of 6 tokens, as when a
    // cache holds the first 2); tokens 0 and 3 are padding.
    const int lq = 4, lk = 6, hq = 2, hkv = 1, d = 8;
    AttentionShape s{lq, lk, hq, hkv, d, hq * d, hkv * d, hkv * d, hq * d};
    const auto q = randn(size_t(lq * hq * d), 4), k = randn(size_t(lk * hkv * d), 5), v = randn(size_t(lk * d), 6);
    const uint8_t valid[lk] = {0, 1, 1, 0, 1, 1};
    const int64_t self[lq] = {2, 3, 4, 5};
    const uint8_t qvalid[lq] = {1, 0, 1, 1};
    std::vector<float> out(size_t(lq * hq * d));
    attention(q.data(), k.data(), v.data(), out.data(), s, {valid, qvalid, self});
    const auto ref = reference(q, k, v, s, [&](int64_t i, int64_t j) {
        return j == self[i] || (qvalid[i] && valid[j]);
    });
    for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref[i], 2e-5);
    // The padded query sees only itself: its output is its own value row.
    for (int c = 0; c < d; ++c) EXPECT_NEAR(out[size_t(1 * hq * d + c)], v[size_t(3 * d + c)], 1e-6);
}

// Masks across several query and key blocks (130 queries, 2100 keys: the last blocks are short).
// Padded queries see only their own key, near the end: every block before it is fully masked.
TEST(Attention, MasksHoldAcrossTiles) {
    const int lq = 130, lk = 2100, hq = 4, hkv = 2, d = 16;
    AttentionShape s{lq, lk, hq, hkv, d, hq * d, hkv * d, hkv * d, hq * d};
    const auto q = randn(size_t(lq * hq * d), 7), k = randn(size_t(lk * hkv * d), 8), v = randn(size_t(lk * hkv * d), 9);
    std::vector<uint8_t> valid(lk), qvalid(lq);
    std::vector<int64_t> self(lq);
    for (int j = 0; j < lk; ++j) valid[size_t(j)] = (j * 7) % 5 != 0;
    for (int i = 0; i < lq; ++i) qvalid[size_t(i)] = i % 9 != 4, self[size_t(i)] = lk - lq + i;
    std::vector<float> out(size_t(lq * hq * d));
    attention(q.data(), k.data(), v.data(), out.data(), s, {valid.data(), qvalid.data(), self.data()});
    const auto ref = reference(q, k, v, s, [&](int64_t i, int64_t j) {
        return j == self[size_t(i)] || (qvalid[size_t(i)] && valid[size_t(j)]);
    });
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 2e-5) << i;
}
