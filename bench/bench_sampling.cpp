// Token choice cost per decoding step at Dream-7B width: the masked rows' logits [rows, vocab] turned
// into tokens and confidences (choose_tokens, as DecodeState::step calls it) for each option set,
// ms per step (best of reps) at each thread count, and whether the tokens agree across thread counts.
//   bench_sampling [--rows 64] [--vocab 152064] [--reps 5] [--threads 1,2]
// Logits: N(0, 2) for every token plus 8 random tokens per row raised by 4 to 14 (uniform per row),
// so that rows range from confident to uncertain positions, as in a real step.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "decode/sampling.h"

using namespace dimple;

namespace {

struct Case {
    const char* name;
    SamplingOptions opt;
    ConfidenceKind kind;
    bool original_confidence;
};

std::vector<float> make_logits(int64_t rows, int64_t vocab) {
    std::mt19937 gen(1);
    std::normal_distribution<float> base(0.f, 2.f);
    std::uniform_real_distribution<float> height(4.f, 14.f);
    std::uniform_int_distribution<int64_t> token(0, vocab - 1);
    std::vector<float> logits(size_t(rows * vocab));
    for (float& x : logits) x = base(gen);
    for (int64_t r = 0; r < rows; ++r) {
        const float h = height(gen);
        for (int j = 0; j < 8; ++j) logits[size_t(r * vocab + token(gen))] += h;
    }
    return logits;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Token choice (softmax, top-p, top-k, draw, confidence) per decoding step"};
    int64_t rows = 64, vocab = 152064;
    int reps = 5;
    std::vector<int> threads = {1, 2};
    app.add_option("--rows", rows, "masked rows per step")->check(CLI::Range(1, 4096));
    app.add_option("--vocab", vocab, "vocabulary size")->check(CLI::Range(2, 1 << 20));
    app.add_option("--reps", reps, "repetitions (the best is reported)")->check(CLI::Range(1, 1000));
    app.add_option("--threads", threads, "thread counts, comma-separated")->delimiter(',')->check(CLI::Range(1, 256));
    CLI11_PARSE(app, argc, argv);

    const std::vector<float> logits = make_logits(rows, vocab);
    std::vector<int64_t> ids(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) ids[size_t(r)] = 600 + r;  // answer positions after a prompt
    const std::vector<Case> cases = {
        {"greedy, original confidence", {0.f, 0.95f, 50}, ConfidenceKind::Probability, true},
        {"greedy, processed confidence", {0.f, 0.95f, 50}, ConfidenceKind::Probability, false},
        {"T 0.2, top-p 0.95, top-k 50", {0.2f, 0.95f, 50}, ConfidenceKind::Probability, true},
        {"  same, margin confidence", {0.2f, 0.95f, 50}, ConfidenceKind::Margin, true},
        {"  same, entropy confidence", {0.2f, 0.95f, 50}, ConfidenceKind::NegEntropy, true},
        {"T 1, top-p 0.9", {1.f, 0.9f, 0}, ConfidenceKind::Probability, true},
        {"T 1, no filter", {1.f, std::nullopt, 0}, ConfidenceKind::Probability, true},
    };
    std::printf("%lld rows x %lld vocab; ms per step, best of %d\n", (long long)rows, (long long)vocab, reps);
    std::printf("%-30s", "options");
    for (int t : threads) std::printf(" %9d thr", t);
    std::printf("  tokens equal\n");
    for (const Case& c : cases) {
        std::printf("%-30s", c.name);
        std::vector<TokenChoice> first;
        bool equal = true;
        for (int t : threads) {
            set_num_threads(t);
            double best = 1e30;
            std::vector<TokenChoice> got;
            for (int r = 0; r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                got = choose_tokens(logits.data(), rows, vocab, c.opt, c.kind, c.original_confidence, 7, 3, ids);
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            if (first.empty()) first = got;
            for (size_t k = 0; k < got.size(); ++k)
                equal = equal && got[k].token == first[k].token && got[k].confidence == first[k].confidence;
            std::printf(" %13.2f", best * 1e3);
            std::fflush(stdout);
        }
        std::printf("  %s\n", equal ? "yes" : "NO");
    }
}
