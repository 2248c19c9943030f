// The row kernels around the products at the shapes of one Dimple-7B decoding step without
// prefilling (576 rows, hidden 3584, intermediate 18944), and the weight conversions of loading:
// ms per call, best of reps. These are the loops a portable build runs in the copy the CPU chose
// (core/isa.h), so running it native, portable, and portable with DIMPLE_CPU=avx2 compares them;
// attention has bench_attention, the sampler bench_sampling.
//   bench_kernels [--reps 10] [--threads 1]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <tuple>
#include <vector>

#include "core/dtype.h"
#include "core/int8.h"
#include "core/isa.h"
#include "core/threads.h"
#include "kernels/ops.h"
#include "kernels/quantize.h"
#include "random_values.h"

using namespace dimple;

int main(int argc, char** argv) {
    CLI::App app{"The row kernels of a Dimple-7B decoding step, and the weight conversions of loading"};
    int reps = 10, threads = 1;
    app.add_option("--reps", reps, "repetitions (the best is reported)")->check(CLI::Range(1, 1000));
    app.add_option("--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 256));
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    constexpr int64_t rows = 576, hidden = 3584, inter = 18944, vocab = 152064;
    const std::vector<float> x = random_normal(size_t(rows * 2 * inter), 1), w = random_normal(size_t(hidden), 2);
    const std::vector<float> w_scale = random_normal(size_t(inter), 4);
    std::vector<float> y(x.size()), scale(static_cast<size_t>(inter));
    std::vector<int32_t> zero(static_cast<size_t>(rows)), colsum(static_cast<size_t>(inter));
    std::vector<uint8_t> q(x.size());
    std::vector<uint16_t> bf16(x.size());
    std::vector<int8_t> q8(x.size());
    std::vector<float> logits(random_normal(size_t(vocab), 3));
    convert_f32_to_bf16(x.data(), bf16.data(), bf16.size());

    // name, elements per call, the call
    const std::vector<std::tuple<const char*, int64_t, std::function<void()>>> cases = {
        {"rms_norm (576 x 3584)", rows * hidden, [&] { rms_norm(x.data(), w.data(), y.data(), rows, hidden, 1e-6f); }},
        {"quantize_activation_rows, normed (576 x 3584)", rows * hidden,
         [&] {
             quantize_activation_rows(x.data(), rows, hidden, ActivationCode{255}, q.data(), scale.data(), zero.data(),
                                      RowNorm{w.data(), 1e-6f});
         }},
        {"quantize_activation_rows (576 x 18944)", rows * inter,
         [&] { quantize_activation_rows(x.data(), rows, inter, ActivationCode{255}, q.data(), scale.data(), zero.data()); }},
        {"dequantize_products (576 x 18944), with a copy in", rows * inter,
         [&] {
             std::copy(x.begin(), x.begin() + rows * inter, y.begin());  // stands in for the s32 sums
             dequantize_products(y.data(), colsum.data(), scale.data(), zero.data(), w_scale.data(), nullptr, rows, inter);
         }},
        {"convert_f32_to_bf16 (576 x 3584)", rows * hidden,
         [&] { convert_f32_to_bf16(x.data(), bf16.data(), size_t(rows * hidden)); }},
        {"silu_mul_rows (576 x 2 x 18944)", rows * inter, [&] { silu_mul_rows(x.data(), rows, inter, y.data()); }},
        {"softmax (152064), 64 rows, each copied in", 64 * vocab,
         [&] {
             for (int r = 0; r < 64; ++r) {
                 std::copy(logits.begin(), logits.end(), y.begin());
                 softmax(y.data(), vocab);
             }
         }},
        {"quantize_weight_rows, bf16 (18944 x 576)", inter * 576,
         [&] { quantize_weight_rows(DType::BF16, bf16.data(), inter, 576, q8.data(), scale.data()); }},
    };
    std::printf("kernels %s, %d threads, best of %d\n", kernel_isa_description(), num_threads(), reps);
    for (const auto& [name, elements, call] : cases) {
        double best = 1e30;
        for (int r = 0; r <= reps; ++r) {  // the first run warms up
            const auto t0 = std::chrono::steady_clock::now();
            call();
            const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r) best = std::min(best, t);
        }
        std::printf("%-48s %8.3f ms  %6.2f Gelem/s\n", name, best * 1e3, double(elements) / best / 1e9);
    }
    return 0;
}
