// Language-model decoding cost at Dream-7B width (hidden 3584, 28 heads, 4 kv heads, inter 18944,
// vocab 152064) with few layers: one diffusion step over a prompt + answer, without prefilling (the
// whole sequence) and with it (the last prompt token and the answer, attending to cached keys), in
// each compute mode, one after another in one run; with --torch, the PyTorch peer
// (tools/bench_decoder_torch.py) in the same run, and the ratios.
//   bench_decoder [--dir D] [--layers 2] [--prompt 512] [--answer 64] [--modes int8,bf16,f32]
//                 [--threads T] [--reps 3] [--torch] [--block-cache-mib 512]
// The synthetic checkpoint is written to D (default /tmp/dimple-bench-7b-L<layers>) once. Beside
// each step it times the layer's products alone (the same Linear layers on the step's rows), so
// that the share of the step spent outside them, and their GFLOP/s, can be read off.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "core/block_cache.h"
#include "core/threads.h"
#include "model/language_model.h"
#include "model/synthetic.h"

using namespace dimple;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string config(int layers) {
    return R"({"model_type": "Dream", "hidden_size": 3584, "intermediate_size": 18944,
      "num_hidden_layers": )" + std::to_string(layers) + R"(, "num_attention_heads": 28,
      "num_key_value_heads": 4, "vocab_size": 152064, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
      "mask_token_id": 151666, "pad_token_id": 151643, "bos_token_id": 151643, "eos_token_id": 151643})";
}

struct Times {
    double full = 1e30, cached = 1e30, head = 1e30, products = 1e30;  // seconds, best of reps
};

// One layer's linear layers (q, k, v, o, gate+up stacked, down) on `rows` rows, alone.
double time_products(const Checkpoint& ck, Compute c, int64_t rows, int reps, double* flops) {
    const int64_t H = 3584, I = 18944, Q = 3584, KV = 512;
    const std::string p = "model.layers.0.";
    struct Part {
        Linear lin;
        int64_t in;
    };
    std::vector<Part> parts;
    auto add = [&](std::vector<std::string> names, std::vector<Shape> shapes) {
        std::vector<Tensor> w;
        for (size_t i = 0; i < names.size(); ++i) w.push_back(ck.get(p + names[i] + ".weight", shapes[i]));
        parts.push_back({Linear(w.size() == 1 ? w[0] : Tensor::concat_rows(w), nullptr, c), shapes[0][1]});
    };
    add({"self_attn.q_proj"}, {{Q, H}});
    add({"self_attn.k_proj"}, {{KV, H}});
    add({"self_attn.v_proj"}, {{KV, H}});
    add({"self_attn.o_proj"}, {{H, Q}});
    add({"mlp.gate_proj", "mlp.up_proj"}, {{I, H}, {I, H}});
    add({"mlp.down_proj"}, {{H, I}});
    *flops = 0;
    for (const Part& part : parts) *flops += 2.0 * double(rows) * double(part.in) * double(part.lin.out_features());
    Tensor x = Tensor::f32({rows, I}), y = Tensor::f32({rows, 2 * I});
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float((i * 7919) % 1000) / 1000.f - 0.5f;
    double best = 1e30;
    for (int r = 0; r <= reps; ++r) {  // the first run builds the primitives
        const double t0 = now();
        for (const Part& part : parts) part.lin.forward(x.data<float>(), rows, y.data<float>());
        if (r) best = std::min(best, now() - t0);
    }
    return best;
}

Times run_mode(const std::string& dir, Compute c, int prompt, int answer, int reps, int layers) {
    double t0 = now();
    const Checkpoint ck(dir);
    const LanguageModel lm(ck, load_model_config(dir), c);
    std::printf("%s: loaded %d layers in %.1f s\n", compute_name(c).c_str(), layers, now() - t0);
    const int64_t L = prompt + answer, P = prompt - 1;
    std::vector<int64_t> ids(static_cast<size_t>(L));
    for (int64_t i = 0; i < L; ++i) ids[size_t(i)] = i < prompt ? (i * 7919) % 150000 : 151666;
    std::vector<int64_t> mask_rows(static_cast<size_t>(answer));
    for (int64_t j = 0; j < answer; ++j) mask_rows[size_t(j)] = prompt - 1 + j;
    auto input = [&](int64_t first) {
        ForwardInput in;
        in.batch = 1;
        in.len = L - first;
        in.embeddings = lm.embed({ids.data() + first, size_t(L - first)});
        for (int64_t i = first; i < L; ++i) in.positions.push_back({i, i, i});
        return in;
    };
    Times t;
    KvCache cache;
    for (int r = 0; r <= reps; ++r) {  // run 0 warms up: primitives for these shapes, first touches
        ForwardInput in = input(0);
        in.keep = P;
        in.keep_into = &cache;
        t0 = now();
        const Tensor h = lm.forward(in);
        if (r) t.full = std::min(t.full, now() - t0);
        t0 = now();
        lm.logits(h, mask_rows);
        if (r) t.head = std::min(t.head, now() - t0);
    }
    for (int r = 0; r <= reps; ++r) {
        ForwardInput in = input(P);
        in.past = &cache;
        t0 = now();
        lm.forward(in);
        if (r) t.cached = std::min(t.cached, now() - t0);
    }
    double flops = 0;
    t.products = time_products(ck, c, L, reps, &flops);
    std::printf("%s: no prefilling %.1f ms/layer (products alone %.1f ms, %.0f GFLOP/s; %.0f%% of the step outside "
                "them), prefilling %.1f ms/layer, lm_head (%d rows) %.1f ms\n",
                compute_name(c).c_str(), 1e3 * t.full / layers, 1e3 * t.products, flops / t.products * 1e-9,
                100.0 * (1.0 - t.products / (t.full / layers)), 1e3 * t.cached / layers, answer, 1e3 * t.head);
    return t;
}

// The torch peer's three figures (ms): no prefilling, prefilling, lm_head; empty if it failed.
std::vector<double> run_torch(const std::string& dtype, int threads, int reps, int layers, int prompt, int answer) {
    const std::string cmd = "/usr/bin/python3 " DIMPLE_SOURCE_DIR "/tools/bench_decoder_torch.py --dtype " + dtype +
                            " --threads " + std::to_string(threads) + " --reps " + std::to_string(reps) +
                            " --layers " + std::to_string(layers) + " --prompt " + std::to_string(prompt) +
                            " --answer " + std::to_string(answer);
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {};
    std::vector<double> v;
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
        std::printf("  %s", line);
        const char* colon = std::strrchr(line, ':');
        if (colon && std::strstr(line, "ms per")) v.push_back(std::atof(colon + 1));
    }
    return pclose(p) == 0 && v.size() == 3 ? v : std::vector<double>{};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"One diffusion step at Dream-7B width, per compute mode, optionally against torch"};
    int layers = 2, prompt = 512, answer = 64, threads = 0, reps = 3;
    std::string dir;
    std::vector<std::string> modes{"int8", "bf16", "f32"};
    bool torch = false;
    int block_cache_mib = int(block_cache::kDefaultMaxBytes >> 20);
    app.add_option("--dir", dir, "Checkpoint folder (written once)");
    app.add_option("--layers", layers)->check(CLI::Range(1, 28));
    app.add_option("--prompt", prompt)->check(CLI::Range(2, 8192));
    app.add_option("--answer", answer)->check(CLI::Range(1, 1024));
    app.add_option("--modes", modes, "Compute modes, run in this order")->delimiter(',');
    app.add_option("--threads", threads, "Threads (0: all cores)");
    app.add_option("--reps", reps, "Repetitions (the best is reported)")->check(CLI::PositiveNumber);
    app.add_flag("--torch", torch, "Also run tools/bench_decoder_torch.py (f32 and bf16) and print ratios");
    app.add_option("--block-cache-mib", block_cache_mib,
                   "Freed tensor buffers kept for reuse (0: every one goes back to malloc, as before the cache)")
        ->check(CLI::NonNegativeNumber);
    CLI11_PARSE(app, argc, argv);
    block_cache::set_max_bytes(size_t(block_cache_mib) << 20);
    if (dir.empty()) dir = "/tmp/dimple-bench-7b-L" + std::to_string(layers);
    set_num_threads(threads);
    if (!std::filesystem::exists(dir + "/model.safetensors")) {
        std::printf("writing synthetic checkpoint to %s ...\n", dir.c_str());
        write_synthetic_checkpoint(dir, config(layers), {DType::BF16, 1, 1, 0.02f});
    }
    std::printf("prompt %d + answer %d tokens, %d layers, %d threads, best of %d after a warm-up, block cache %d MiB\n",
                prompt, answer, layers, num_threads(), reps, block_cache_mib);
    std::map<std::string, Times> t;
    for (const std::string& m : modes) t[m] = run_mode(dir, parse_compute(m), prompt, answer, reps, layers);

    std::printf("\n%-8s %12s %12s %12s   (ms; per layer, per layer, per step)\n", "mode", "no prefill", "prefill",
                "lm_head");
    for (const std::string& m : modes)
        std::printf("%-8s %12.1f %12.1f %12.1f\n", m.c_str(), 1e3 * t[m].full / layers, 1e3 * t[m].cached / layers,
                    1e3 * t[m].head);
    if (t.count("int8"))
        for (const char* other : {"bf16", "f32"})
            if (t.count(other))
                std::printf("int8 vs %s: %.2fx (no prefill), %.2fx (prefill), %.2fx (lm_head)\n", other,
                            t[other].full / t["int8"].full, t[other].cached / t["int8"].cached,
                            t[other].head / t["int8"].head);
    if (!torch) return 0;
    for (const char* dtype : {"f32", "bf16"}) {
        std::printf("torch %s:\n", dtype);
        const std::vector<double> v = run_torch(dtype, num_threads(), std::min(reps, 2), layers, prompt, answer);
        if (v.empty()) {
            std::printf("  (torch peer failed)\n");
            continue;
        }
        if (t.count(dtype))
            std::printf("torch %s / dimple %s: %.2fx (no prefill), %.2fx (prefill), %.2fx (lm_head)\n", dtype, dtype,
                        v[0] / (1e3 * t[dtype].full / layers), v[1] / (1e3 * t[dtype].cached / layers),
                        v[2] / (1e3 * t[dtype].head));
        if (t.count("int8"))
            std::printf("torch %s / dimple int8: %.2fx (no prefill), %.2fx (prefill), %.2fx (lm_head)\n", dtype,
                        v[0] / (1e3 * t["int8"].full / layers), v[1] / (1e3 * t["int8"].cached / layers),
                        v[2] / (1e3 * t["int8"].head));
    }
    return 0;
}
