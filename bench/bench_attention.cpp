// Attention alone (kernels/attention.h) at the shapes a Dimple-7B step and its vision tower use:
// ms per call (best of reps) and GFLOP/s (4 * q_len * kv_len * head_dim * q_heads per call), to
// set beside bench_matmul's rate for the machine.
//   bench_attention [--reps 5] [--threads 0]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "core/threads.h"
#include "kernels/attention.h"
#include "random_values.h"

using namespace dimple;

namespace {

struct Case {
    const char* name;
    int64_t q_len, kv_len, q_heads, kv_heads, head_dim;
    int64_t calls;  // consecutive calls per timed run (the vision tower's windows, one by one)
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Attention alone at Dimple-7B's shapes"};
    int reps = 5, threads = 0;
    app.add_option("--reps", reps, "repetitions (the best is reported)")->check(CLI::Range(1, 1000));
    app.add_option("--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 256));
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    const std::vector<Case> cases = {
        {"decoder, no prefilling (576 tokens)", 576, 576, 28, 4, 128, 1},
        {"decoder, prefilled (64 of 576 tokens)", 64, 576, 28, 4, 128, 1},
        {"vision, 16 windows of 64 tokens (448x448)", 64, 64, 16, 16, 80, 16},
        {"vision, full attention, 1024 tokens (448x448)", 1024, 1024, 16, 16, 80, 1},
        {"vision, full attention, 3996 tokens (1024x768)", 3996, 3996, 16, 16, 80, 1},
    };
    std::printf("%d threads, best of %d\n", num_threads(), reps);
    for (const Case& c : cases) {
        const int64_t D = c.head_dim;
        const AttentionShape s{c.q_len, c.kv_len, c.q_heads, c.kv_heads, D,
                               c.q_heads * D, c.kv_heads * D, c.kv_heads * D, c.q_heads * D};
        const auto q = random_normal(size_t(c.calls * c.q_len * c.q_heads * D), 1);
        const auto k = random_normal(size_t(c.calls * c.kv_len * c.kv_heads * D), 2);
        const auto v = random_normal(size_t(c.calls * c.kv_len * c.kv_heads * D), 3);
        std::vector<float> out(q.size());
        double best = 1e30;
        for (int r = 0; r <= reps; ++r) {  // the first run warms up
            const auto t0 = std::chrono::steady_clock::now();
            for (int64_t i = 0; i < c.calls; ++i)
                attention(q.data() + i * c.q_len * s.q_stride, k.data() + i * c.kv_len * s.k_stride,
                          v.data() + i * c.kv_len * s.v_stride, out.data() + i * c.q_len * s.out_stride, s);
            const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r) best = std::min(best, t);
        }
        const double flop = 4.0 * double(c.q_len * c.kv_len * D * c.q_heads * c.calls);
        std::printf("%-48s %9.3f ms  %6.1f GFLOP/s\n", c.name, best * 1e3, flop / best / 1e9);
    }
    return 0;
}
