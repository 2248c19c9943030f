// oneDNN linear-layer throughput: y[M, N] = x[M, K] W^T with W packed at load, in each compute mode
// (int8 counts its activation quantization and dequantization in the time; GOP/s for it),
// for the Dream-7B MLP shape (K 3584, N 18944 by default) at several row counts.
//   bench_matmul [--threads T] [--k K] [--n N] [--reps R]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "core/threads.h"
#include "kernels/matmul.h"

using namespace dimple;

int main(int argc, char** argv) {
    int threads = 0, reps = 5;
    int64_t K = 3584, N = 18944;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--threads") threads = std::atoi(argv[i + 1]);
        else if (a == "--k") K = std::atoll(argv[i + 1]);
        else if (a == "--n") N = std::atoll(argv[i + 1]);
        else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    }
    set_num_threads(threads);
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.f, 0.02f);
    Tensor w(DType::BF16, {N, K});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<uint16_t>()[i] = f32_to_bf16(d(rng));
    std::printf("K %lld, N %lld, %d threads; best of %d\n", (long long)K, (long long)N, num_threads(), reps);
    std::printf("%-6s %6s %10s %10s\n", "mode", "M", "ms", "G(FL)OP/s");
    for (Compute c : {Compute::Int8, Compute::BF16, Compute::F32}) {
        if (c == Compute::BF16 && !cpu_has_bf16_products()) continue;
        const Linear lin(w, nullptr, c);
        for (int64_t M : {1, 32, 128, 512}) {
            Tensor x = Tensor::f32({M, K}), y = Tensor::f32({M, N});
            for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = d(rng);
            lin.forward(x.data<float>(), M, y.data<float>());  // warm-up: primitive creation
            double best = 1e30;
            for (int r = 0; r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                lin.forward(x.data<float>(), M, y.data<float>());
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            std::printf("%-6s %6lld %10.2f %10.1f\n", compute_name(c).c_str(), (long long)M, best * 1e3,
                        2.0 * double(M) * double(K) * double(N) / best * 1e-9);
        }
    }
}
