// int8 quantization: weight rows and activation rows against a double-precision reference, and the
// int8 Linear against the exact product of the values it quantized (so its only error is the
// quantization's), on several shapes, with and without bias, both activation codes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "core/error.h"
#include "kernels/matmul.h"
#include "random_data.h"
#include "kernels/ops.h"
#include "kernels/quantize.h"
#include "testing.h"

using namespace dimple;
using dtest::randn;

TEST(Quantize, WeightRowsRoundToNearestStep) {
    for (auto [rows, k] : {std::pair{1, 7}, {9, 64}, {33, 1000}}) {
        auto w = randn(size_t(rows * k), uint32_t(rows + k), 0.05f);
        for (int i = 0; i < k; ++i) w[size_t(i)] = 0.f;  // an all-zero row gets scale 0
        std::vector<int8_t> q(w.size());
        std::vector<float> scale(static_cast<size_t>(rows)), back(w.size());
        quantize_weight_rows(DType::F32, w.data(), rows, k, q.data(), scale.data());
        dequantize_weight_rows(q.data(), scale.data(), rows, k, back.data());
        EXPECT_EQ(scale[0], 0.f);
        for (int r = 0; r < rows; ++r) {
            double amax = 0;
            for (int i = 0; i < k; ++i) amax = std::max(amax, std::abs(double(w[size_t(r * k + i)])));
            EXPECT_NEAR(scale[size_t(r)], amax / 127, 1e-7 * amax);
            for (int i = 0; i < k; ++i) {
                const size_t j = size_t(r * k + i);
                EXPECT_LE(std::abs(q[j]), 127);
                // Round to nearest: within half a step (plus f32 slack).
                EXPECT_LE(std::abs(double(back[j]) - w[j]), 0.5 * scale[size_t(r)] * (1 + 1e-5) + 1e-12) << r << "," << i;
            }
        }
    }
}

TEST(Quantize, Bf16WeightRowsEqualTheirF32Values) {
    const auto w = randn(5 * 40, 3, 0.1f);
    std::vector<uint16_t> b(w.size());
    std::vector<float> wf(w.size());
    for (size_t i = 0; i < w.size(); ++i) b[i] = f32_to_bf16(w[i]), wf[i] = bf16_to_f32(b[i]);
    std::vector<int8_t> q1(w.size()), q2(w.size());
    std::vector<float> s1(5), s2(5);
    quantize_weight_rows(DType::BF16, b.data(), 5, 40, q1.data(), s1.data());
    quantize_weight_rows(DType::F32, wf.data(), 5, 40, q2.data(), s2.data());
    EXPECT_EQ(q1, q2);
    EXPECT_EQ(s1, s2);
}

TEST(Quantize, ActivationRowsInBothCodes) {
    for (ActivationCode code : {ActivationCode{255}, ActivationCode{127}}) {
        const int rows = 6, k = 300;
        auto x = randn(size_t(rows * k), 11, 4.f);
        for (int i = 0; i < k; ++i) x[size_t(k + i)] = 0.f;                       // all zero
        for (int i = 0; i < k; ++i) x[size_t(2 * k + i)] = std::abs(x[size_t(2 * k + i)]);  // one-sided
        std::vector<uint8_t> q(x.size());
        std::vector<float> scale(rows);
        std::vector<int32_t> zero(rows);
        quantize_activation_rows(x.data(), rows, k, code, q.data(), scale.data(), zero.data());
        EXPECT_EQ(scale[1], 0.f);
        EXPECT_EQ(zero[2], 0);
        for (int r = 0; r < rows; ++r) {
            double lo = 0, hi = 0;
            for (int i = 0; i < k; ++i) lo = std::min(lo, double(x[size_t(r * k + i)])), hi = std::max(hi, double(x[size_t(r * k + i)]));
            EXPECT_NEAR(scale[size_t(r)], (hi - lo) / code.levels, 1e-6 * (hi - lo));
            for (int i = 0; i < k; ++i) {
                const size_t j = size_t(r * k + i);
                EXPECT_LE(int(q[j]), code.levels);
                const double back = double(int(q[j]) - zero[size_t(r)]) * scale[size_t(r)];
                // Half a step, plus half a step for the rounded zero point.
                EXPECT_LE(std::abs(back - x[j]), 1.0 * scale[size_t(r)] * (1 + 1e-5) + 1e-12);
            }
        }
    }
}

// Normalising while quantizing gives the codes of normalising first, bit for bit, in both codes
// and on several shapes (the row buffer is per thread and reused across calls and row lengths).
TEST(Quantize, RmsNormedRowsEqualNormalisingFirst) {
    for (ActivationCode code : {ActivationCode{255}, ActivationCode{127}})
        for (auto [rows, k] : {std::pair{1, 5}, {7, 300}, {64, 1024}, {3, 3584}}) {
            const auto x = randn(size_t(rows * k), uint32_t(rows * 31 + k), 3.f);
            const auto w = randn(size_t(k), uint32_t(k), 0.5f);
            const float eps = 1e-6f;
            std::vector<float> normed(x.size());
            rms_norm(x.data(), w.data(), normed.data(), rows, k, eps);
            std::vector<uint8_t> q1(x.size()), q2(x.size());
            std::vector<float> s1(static_cast<size_t>(rows)), s2(static_cast<size_t>(rows));
            std::vector<int32_t> z1(static_cast<size_t>(rows)), z2(static_cast<size_t>(rows));
            quantize_activation_rows(normed.data(), rows, k, code, q1.data(), s1.data(), z1.data());
            quantize_activation_rows(x.data(), rows, k, code, q2.data(), s2.data(), z2.data(), RowNorm{w.data(), eps});
            EXPECT_EQ(q1, q2) << rows << "x" << k;
            EXPECT_EQ(s1, s2);
            EXPECT_EQ(z1, z2);
        }
}

class Int8LinearShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, bool>> {};

// The int8 Linear equals, up to f32 rounding, sum_i xq[m,i] * wq[n,i] * xs[m] * ws[n] + b[n]
// computed in double from the quantized values (whatever code the CPU uses); and it is within the
// quantization error of the exact product.
TEST_P(Int8LinearShapes, MatchesTheProductOfTheQuantizedValues) {
    const auto [M, K, N, with_bias] = GetParam();
    const auto xv = randn(size_t(M * K), uint32_t(M + 3 * K), 1.f), wv = randn(size_t(N * K), uint32_t(N + K), 0.05f);
    const auto bv = randn(size_t(N), 5);
    const Tensor x = Tensor::from(xv, {M, K}), w = Tensor::from(wv, {N, K}), b = Tensor::from(bv, {N});
    const Linear lin(w, with_bias ? &b : nullptr, Compute::Int8);
    const Tensor y = lin.forward(x);

    std::vector<int8_t> wq(wv.size());
    std::vector<float> ws(static_cast<size_t>(N)), xs(static_cast<size_t>(M));
    quantize_weight_rows(DType::F32, wv.data(), N, K, wq.data(), ws.data());
    const ActivationCode code{cpu_has_int8_dot() ? 255 : 127};
    std::vector<uint8_t> xq(xv.size());
    std::vector<int32_t> zero(static_cast<size_t>(M));
    quantize_activation_rows(xv.data(), M, K, code, xq.data(), xs.data(), zero.data());
    double worst = 0, worst_exact = 0, scale_exact = 0;
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
            double acc = 0, exact = with_bias ? bv[size_t(n)] : 0.0;
            for (int64_t i = 0; i < K; ++i) {
                acc += double(int(xq[size_t(m * K + i)]) - zero[size_t(m)]) * wq[size_t(n * K + i)];
                exact += double(xv[size_t(m * K + i)]) * wv[size_t(n * K + i)];
            }
            const double product = acc * xs[size_t(m)] * ws[size_t(n)];
            const double ref = product + (with_bias ? bv[size_t(n)] : 0.0);
            const double got = y.data<float>()[m * N + n];
            // Relative to the terms' size: a bias can cancel the product.
            worst = std::max(worst, std::abs(got - ref) / (1e-6 + std::abs(product) + std::abs(ref)));
            worst_exact = std::max(worst_exact, std::abs(got - exact));
            scale_exact = std::max(scale_exact, std::abs(exact));
        }
    EXPECT_LT(worst, 1e-5);  // f32 rounding of the dequantization only
    // Quantization: |error| of each product term <= half a step of x times |w| plus the converse;
    // summed over K random terms it stays a small fraction of the output's range.
    EXPECT_LT(worst_exact, (code.levels == 255 ? 0.03 : 0.06) * scale_exact) << worst_exact << " of " << scale_exact;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Int8LinearShapes,
                         ::testing::Values(std::make_tuple(1, 64, 48, true), std::make_tuple(7, 33, 17, false),
                                           std::make_tuple(32, 256, 96, true), std::make_tuple(130, 96, 200, false),
                                           std::make_tuple(5, 1176, 32, true)));

TEST(Int8Linear, PrequantizedWeightsEqualQuantizingAtLoad) {
    const int64_t M = 9, K = 70, N = 30;
    const auto xv = randn(size_t(M * K), 21), wv = randn(size_t(N * K), 22, 0.05f);
    const Tensor x = Tensor::from(xv, {M, K}), w = Tensor::from(wv, {N, K});
    Tensor q(DType::I8, {N, K}), s = Tensor::f32({N});
    quantize_weight_rows(DType::F32, wv.data(), N, K, q.data<int8_t>(), s.data<float>());
    EXPECT_TRUE(dtest::all_equal(Linear(q, &s, nullptr, Compute::Int8).forward(x),
                                 Linear(w, nullptr, Compute::Int8).forward(x)));
    // An int8 checkpoint also serves the float modes (dequantized at load).
    Tensor deq = Tensor::f32({N, K});
    dequantize_weight_rows(q.data<int8_t>(), s.data<float>(), N, K, deq.data<float>());
    EXPECT_TRUE(dtest::all_close(Linear(q, &s, nullptr, Compute::F32).forward(x),
                                 Linear(deq, nullptr, Compute::F32).forward(x), 1e-6, 1e-6));
    EXPECT_THROW(Linear(q, nullptr, nullptr, Compute::Int8), Error);
    EXPECT_THROW(Linear(w, nullptr, nullptr, Compute::Auto), Error);
}
