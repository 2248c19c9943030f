#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/fast_log.h"
#include "kernels/ops.h"
#include "random_data.h"

using namespace dimple;
using dtest::randn;

TEST(Ops, RmsNormMatchesDouble) {
    for (auto [rows, n] : {std::pair{1, 64}, {5, 33}, {17, 3584}}) {
        const auto x = randn(size_t(rows * n), 1, 3.f), w = randn(size_t(n), 2);
        std::vector<float> y(x.size());
        rms_norm(x.data(), w.data(), y.data(), rows, n, 1e-6f);
        for (int r = 0; r < rows; ++r) {
            double ss = 0;
            for (int i = 0; i < n; ++i) ss += double(x[size_t(r * n + i)]) * x[size_t(r * n + i)];
            const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
            for (int i = 0; i < n; ++i) {
                const double ref = w[size_t(i)] * x[size_t(r * n + i)] * inv;
                EXPECT_NEAR(y[size_t(r * n + i)], ref, 2e-6 * (1 + std::abs(ref)));
            }
        }
    }
}

// Rows with a large mean against their spread, where a one-pass E[x^2] - E[x]^2 would lose the spread.
TEST(Ops, LayerNormMatchesDouble) {
    for (auto [rows, n] : {std::pair{1, 32}, {5, 33}, {9, 1152}}) {
        auto x = randn(size_t(rows * n), 11, 2.f);
        for (size_t i = 0; i < x.size(); ++i) x[i] += float(i / size_t(n)) * 40.f;  // row r: mean ~40r
        const auto w = randn(size_t(n), 12), b = randn(size_t(n), 13);
        std::vector<float> y(x.size());
        layer_norm(x.data(), w.data(), b.data(), y.data(), rows, n, 1e-6f);
        for (int r = 0; r < rows; ++r) {
            const float* xr = &x[size_t(r * n)];
            double mean = 0, var = 0;
            for (int i = 0; i < n; ++i) mean += xr[i];
            mean /= n;
            for (int i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
            const double inv = 1.0 / std::sqrt(var / n + 1e-6);
            for (int i = 0; i < n; ++i) {
                const double ref = (xr[i] - mean) * inv * w[size_t(i)] + b[size_t(i)];
                // x - mean is taken in float (as torch does): half an ulp of a mean of 320 is 1.5e-5,
                // against a spread of 2 and weights up to ~3.
                EXPECT_NEAR(y[size_t(r * n + i)], ref, 3e-5 * (1 + std::abs(ref)));
            }
        }
    }
}

TEST(Ops, GeluTanhMatchesDouble) {
    const auto x = randn(1000, 14, 4.f);
    std::vector<float> y = x;
    gelu_tanh_inplace(y.data(), int64_t(y.size()));
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        const double ref = 0.5 * v * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        EXPECT_NEAR(y[i], ref, 1e-6 * (1 + std::abs(ref)));
    }
}

TEST(Ops, RotaryRotatesHalves) {
    for (int d : {16, 64, 128}) {
        const int heads = 3;
        auto x = randn(size_t(heads * d), 3);
        const auto ang = randn(size_t(d / 2), 4, 5.f);
        std::vector<float> c(static_cast<size_t>(d)), s(static_cast<size_t>(d));
        for (int i = 0; i < d; ++i) {
            c[size_t(i)] = std::cos(ang[size_t(i % (d / 2))]);
            s[size_t(i)] = std::sin(ang[size_t(i % (d / 2))]);
        }
        const auto x0 = x;
        apply_rotary(x.data(), heads, d, d, c.data(), s.data());
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < d / 2; ++i) {
                const double a = x0[size_t(h * d + i)], b = x0[size_t(h * d + i + d / 2)];
                const double t = ang[size_t(i)];
                EXPECT_NEAR(x[size_t(h * d + i)], a * std::cos(t) - b * std::sin(t), 1e-5);
                EXPECT_NEAR(x[size_t(h * d + i + d / 2)], b * std::cos(t) + a * std::sin(t), 1e-5);
            }
    }
}

TEST(Ops, SoftmaxSumsToOneAndIsStable) {
    for (int n : {1, 7, 2048}) {
        auto x = randn(size_t(n), 5, 30.f);
        const auto x0 = x;
        softmax(x.data(), n);
        double mx = -1e300, z = 0;
        for (float v : x0) mx = std::max(mx, double(v));
        for (float v : x0) z += std::exp(double(v) - mx);
        for (int i = 0; i < n; ++i)
            EXPECT_NEAR(x[size_t(i)], std::exp(double(x0[size_t(i)]) - mx) / z, 1e-6);
    }
    std::vector<float> inf = {-INFINITY, 0.f, -INFINITY};
    softmax(inf.data(), 3);
    EXPECT_EQ(inf[1], 1.f);
    EXPECT_EQ(inf[0], 0.f);
}

TEST(Ops, ActivationsMatchDouble) {
    const auto x = randn(1000, 6, 4.f), u = randn(1000, 7);
    std::vector<float> y(x.size()), g = x, s = x, gate_up;
    for (int r = 0; r < 10; ++r) {  // 10 rows of [gate | up], 100 each
        gate_up.insert(gate_up.end(), x.begin() + r * 100, x.begin() + (r + 1) * 100);
        gate_up.insert(gate_up.end(), u.begin() + r * 100, u.begin() + (r + 1) * 100);
    }
    silu_mul_rows(gate_up.data(), 10, 100, y.data());
    gelu_erf_inplace(g.data(), 1000);
    silu_inplace(s.data(), 1000);
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        const double sl = v / (1 + std::exp(-v));
        EXPECT_NEAR(y[i], sl * u[i], 1e-6 * (1 + std::abs(sl * u[i])));
        EXPECT_NEAR(s[i], sl, 1e-6 * (1 + std::abs(sl)));
        EXPECT_NEAR(g[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-6 * (1 + std::abs(v)));
    }
}

// fast_exp against std::exp: within 2 ulp over the whole f32 range it serves, exactly 0 below it
// (masked scores), and exact at 0.
TEST(Ops, FastExpWithinTwoUlpOfStdExp) {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-87.3f, 88.3f);
    int worst = 0;
    for (int i = 0; i < 200000; ++i) {
        const float x = i < 100000 ? u(rng) : u(rng) / 100.f;  // also many near 0
        const float a = fast_exp(x), b = std::exp(x);
        int32_t ia, ib;
        std::memcpy(&ia, &a, 4);
        std::memcpy(&ib, &b, 4);
        worst = std::max(worst, std::abs(ia - ib));
    }
    EXPECT_LE(worst, 2);
    EXPECT_EQ(fast_exp(0.f), 1.f);
    EXPECT_EQ(fast_exp(-INFINITY), 0.f);
    EXPECT_EQ(fast_exp(-100.f), 0.f);
    EXPECT_TRUE(std::isfinite(fast_exp(100.f)));
}

// fast_log against std::log: within 2 ulp from the smallest input the entropy confidence gives it
// (1e-10) to well above 1, many near 1 where log is near 0, and exact at 1.
TEST(Ops, FastLogWithinTwoUlpOfStdLog) {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> exponent(-30.f, 3.f), near_one(0.9f, 1.1f);
    int worst = 0;
    for (int i = 0; i < 200000; ++i) {
        const float x = i < 100000 ? std::pow(10.f, exponent(rng)) : near_one(rng);
        const float a = fast_log(x), b = std::log(x);
        int32_t ia, ib;
        std::memcpy(&ia, &a, 4);
        std::memcpy(&ib, &b, 4);
        worst = std::max(worst, (a < 0) == (b < 0) ? std::abs(ia - ib) : 1 << 30);
    }
    EXPECT_LE(worst, 2);
    EXPECT_EQ(fast_log(1.f), 0.f);
    EXPECT_NEAR(fast_log(1e-10f), std::log(1e-10f), 4e-6);
}

TEST(Ops, SiluMulRowsReadsStackedGateAndUp) {
    for (auto [rows, n] : {std::pair{1, 5}, {3, 64}, {40, 2000}}) {
        const auto gu = randn(size_t(rows * 2 * n), uint32_t(rows + n), 4.f);
        std::vector<float> out(size_t(rows * n));
        silu_mul_rows(gu.data(), rows, n, out.data());
        for (int r = 0; r < rows; ++r)
            for (int i = 0; i < n; ++i) {
                const double g = gu[size_t(r * 2 * n + i)], u = gu[size_t(r * 2 * n + n + i)];
                const double ref = g / (1 + std::exp(-g)) * u;
                EXPECT_NEAR(out[size_t(r * n + i)], ref, 1e-6 * (1 + std::abs(ref)));
            }
    }
}
