#include <gtest/gtest.h>

#include <malloc.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "core/error.h"
#include "kernels/matmul.h"
#include "kernels/onednn.h"
#include "kernels/ops.h"
#include "testing.h"

using namespace dimple;

namespace {

Tensor random_tensor(DType t, Shape shape, std::mt19937& rng, float scale = 1.0f) {
    Tensor out(t, std::move(shape));
    std::normal_distribution<float> d(0.f, scale);
    for (int64_t i = 0; i < out.numel(); ++i) {
        const float v = d(rng);
        if (t == DType::F32) out.data<float>()[i] = v;
        else if (t == DType::BF16) out.data<uint16_t>()[i] = f32_to_bf16(v);
        else out.data<uint16_t>()[i] = f32_to_f16(v);
    }
    return out;
}

// y = x W^T + b in double, from the values the operands hold (bf16 rounding of x optional).
Tensor reference(const Tensor& x, const Tensor& w, const Tensor* b, bool round_x_bf16) {
    const Tensor wf = w.to_f32();
    const int64_t M = x.dim(0), K = x.dim(1), N = w.dim(0);
    Tensor y = Tensor::f32({M, N});
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
            double acc = b ? double(b->to_f32().data<float>()[n]) : 0.0;
            for (int64_t k = 0; k < K; ++k) {
                float xv = x.data<float>()[m * K + k];
                if (round_x_bf16) xv = bf16_to_f32(f32_to_bf16(xv));
                acc += double(xv) * double(wf.data<float>()[n * K + k]);
            }
            y.data<float>()[m * N + n] = float(acc);
        }
    return y;
}

}  // namespace

class MatmulShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, bool>> {};

TEST_P(MatmulShapes, MatchesDoubleReferenceInBothComputeModes) {
    const auto [M, K, N, bias] = GetParam();
    std::mt19937 rng(uint32_t(M * 131 + K * 7 + N));
    const Tensor x = random_tensor(DType::F32, {M, K}, rng);
    const Tensor w = random_tensor(DType::BF16, {N, K}, rng, 0.1f);
    const Tensor b = random_tensor(DType::BF16, {N}, rng);
    const Tensor* bp = bias ? &b : nullptr;

    // f32: the exact bf16 weights, f32 activations; only summation order differs.
    const Tensor y32 = Linear(w, bp, Compute::F32).forward(x);
    EXPECT_TRUE(dtest::all_close(y32, reference(x, w, bp, false), 1e-5 * std::sqrt(double(K)), 1e-5));
    // The same Linear serves other row counts (primitive cache, fixed packed layout).
    const Linear lin(w, bp, Compute::F32);
    const Tensor one = x.slice_rows(0, 1).clone();
    EXPECT_TRUE(dtest::all_close(lin.forward(one), reference(one, w, bp, false), 1e-5 * std::sqrt(double(K)), 1e-5));
    // bf16: activations rounded to bf16, f32 accumulation: equal to the reference on rounded x.
    if (!cpu_has_bf16_products()) {  // e.g. ONEDNN_MAX_CPU_ISA=AVX2: a clear error instead
        EXPECT_THROW(Linear(w, bp, Compute::BF16), Error);
        return;
    }
    const Tensor y16 = Linear(w, bp, Compute::BF16).forward(x);
    EXPECT_TRUE(dtest::all_close(y16, reference(x, w, bp, true), 1e-4 * std::sqrt(double(K)), 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulShapes,
                         ::testing::Values(std::make_tuple(1, 64, 48, true),
                                           std::make_tuple(7, 33, 17, false),
                                           std::make_tuple(32, 256, 96, true),
                                           std::make_tuple(130, 96, 200, false),
                                           std::make_tuple(5, 1176, 32, false)));

// A Linear that normalises its input rows (RMSNorm fused with the conversion to bf16 or to int8
// codes) computes exactly what rms_norm followed by the plain product computes, in every mode.
TEST(Matmul, RowNormEqualsNormalisingFirst) {
    std::mt19937 rng(17);
    for (auto [M, K, N] : {std::tuple<int64_t, int64_t, int64_t>{1, 64, 48}, {9, 200, 72}, {130, 512, 96}}) {
        const Tensor x = random_tensor(DType::F32, {M, K}, rng, 2.f);
        const Tensor w = random_tensor(DType::BF16, {N, K}, rng, 0.1f);
        const Tensor b = random_tensor(DType::F32, {N}, rng);
        const Tensor g = random_tensor(DType::F32, {K}, rng, 0.5f);
        const float eps = 1e-6f;
        Tensor normed = Tensor::f32({M, K});
        rms_norm(x.data<float>(), g.data<float>(), normed.data<float>(), M, K, eps);
        for (Compute c : {Compute::F32, Compute::BF16, Compute::Int8}) {
            if (c == Compute::BF16 && !cpu_has_bf16_products()) continue;
            const Linear lin(w, &b, c);
            const Tensor first = lin.forward(normed);
            Tensor fused = Tensor::f32({M, N});
            lin.forward(x.data<float>(), M, fused.data<float>(), RowNorm{g.data<float>(), eps});
            EXPECT_EQ(0, std::memcmp(first.raw(), fused.raw(), first.nbytes()))
                << compute_name(c) << " " << M << "x" << K << "x" << N;
        }
    }
}

TEST(Matmul, F32AndF16WeightsLoad) {
    std::mt19937 rng(5);
    const Tensor x = random_tensor(DType::F32, {3, 20}, rng);
    for (DType t : {DType::F32, DType::F16}) {
        const Tensor w = random_tensor(t, {10, 20}, rng, 0.1f);
        EXPECT_TRUE(dtest::all_close(Linear(w, nullptr, Compute::F32).forward(x),
                                       reference(x, w, nullptr, false), 1e-5, 1e-5));
    }
}

TEST(Matmul, RejectsMismatchedInput) {
    std::mt19937 rng(6);
    const Linear lin(random_tensor(DType::BF16, {4, 8}, rng), nullptr, Compute::F32);
    EXPECT_THROW(lin.forward(Tensor::f32({2, 7})), Error);
    EXPECT_THROW(parse_compute("f64"), Error);
}

// A product over a new row count compiles a primitive; oneDNN's own cache kept 1024 of them (the
// logits product of every mask count of a long answer: 360 MiB on the shipped model, for good).
TEST(Matmul, FewCompiledPrimitivesOutliveTheirUse) {
    std::mt19937 rng(7);
    const Linear lin(random_tensor(DType::F32, {16, 32}, rng), nullptr, Compute::F32);
    for (int64_t rows = 1; rows <= 40; ++rows) lin.forward(Tensor::f32({rows, 32}));
    EXPECT_LE(dnnl::get_primitive_cache_capacity(), 128);
}

#if !defined(__SANITIZE_ADDRESS__)  // AddressSanitizer's allocator does not report to mallinfo2
// The converted inputs a thread keeps between products grow to its largest one; a server frees
// them when idle (they are rows x input width: hundreds of MB after a long prompt at 7B width).
TEST(Matmul, AThreadsConvertedInputsCanBeFreed) {
    std::mt19937 rng(8);
    const Linear lin(random_tensor(DType::F32, {16, 1024}, rng), nullptr, Compute::Int8);  // every CPU
    auto in_use = [] {
        const struct mallinfo2 m = mallinfo2();
        return m.uordblks + m.hblkhd;
    };
    const Tensor x = Tensor::f32({4096, 1024});
    lin.forward(Tensor::f32({1, 1024}));  // the output's block and the primitives' bookkeeping exist
    release_product_scratch();
    const size_t before = in_use();
    const Tensor y = lin.forward(x);  // 4 MiB of 8-bit inputs kept
    EXPECT_GT(in_use(), before + (size_t(3) << 20));
    release_product_scratch();
    EXPECT_LT(in_use(), before + (size_t(1) << 20));
}
#endif
