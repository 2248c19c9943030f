// Language-model decoding cost at Dream-7B width (hidden 3584, 28 heads, 4 kv heads, inter 18944,
// vocab 152064) with few layers: one diffusion step over a prompt + answer, without prefilling (the
// whole sequence) and with it (the last prompt token and the answer, attending to cached keys).
//   bench_decoder [--dir D] [--layers 2] [--prompt 512] [--answer 64] [--compute bf16|f32]
//                 [--threads T] [--reps 3]
// The synthetic checkpoint is written to D (default /tmp/dimple-bench-7b-L<layers>) once.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

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

}  // namespace

int main(int argc, char** argv) {
    int layers = 2, prompt = 512, answer = 64, threads = 0, reps = 3;
    std::string dir, compute = "bf16";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--dir") dir = v;
        else if (a == "--layers") layers = std::atoi(v.c_str());
        else if (a == "--prompt") prompt = std::atoi(v.c_str());
        else if (a == "--answer") answer = std::atoi(v.c_str());
        else if (a == "--compute") compute = v;
        else if (a == "--threads") threads = std::atoi(v.c_str());
        else if (a == "--reps") reps = std::atoi(v.c_str());
    }
    if (dir.empty()) dir = "/tmp/dimple-bench-7b-L" + std::to_string(layers);
    set_num_threads(threads);
    if (!std::filesystem::exists(dir + "/model.safetensors")) {
        std::printf("writing synthetic checkpoint to %s ...\n", dir.c_str());
        write_synthetic_checkpoint(dir, config(layers), {DType::BF16, 1, 1, 0.02f});
    }
    double t0 = now();
    const Checkpoint ck(dir);
    const LanguageModel lm(ck, load_model_config(dir), parse_compute(compute));
    std::printf("loaded %d layers in %.1f s (%s, %d threads)\n", layers, now() - t0, compute.c_str(), num_threads());

    const int64_t L = prompt + answer, P = prompt - 1;
    std::vector<int64_t> ids(static_cast<size_t>(L));
    for (int64_t i = 0; i < L; ++i) ids[size_t(i)] = i < prompt ? (i * 7919) % 150000 : 151666;
    std::vector<int64_t> mask_rows(static_cast<size_t>(answer));  // rows predicting the answer positions
    auto input = [&](int64_t first) {
        ForwardInput in;
        in.batch = 1;
        in.len = L - first;
        in.embeddings = lm.embed({ids.data() + first, size_t(L - first)});
        for (int64_t i = first; i < L; ++i) in.positions.push_back({i, i, i});
        return in;
    };

    KvCache cache;
    double full = 1e30, cached = 1e30, head = 1e30;
    for (int r = 0; r < reps; ++r) {
        ForwardInput in = input(0);
        in.keep = P;
        in.keep_into = &cache;
        t0 = now();
        const Tensor h = lm.forward(in);
        full = std::min(full, now() - t0);
        for (int64_t j = 0; j < answer; ++j) mask_rows[size_t(j)] = prompt - 1 + j;
        t0 = now();
        lm.logits(h, mask_rows);
        head = std::min(head, now() - t0);
    }
    for (int r = 0; r < reps; ++r) {
        ForwardInput in = input(P);
        in.past = &cache;
        t0 = now();
        lm.forward(in);
        cached = std::min(cached, now() - t0);
    }
    std::printf("prompt %d + answer %d tokens, %d layers, best of %d\n", prompt, answer, layers, reps);
    std::printf("  no prefilling (%lld tokens): %8.1f ms per step per layer\n", (long long)L, 1e3 * full / layers);
    std::printf("  prefilling    (%lld tokens): %8.1f ms per step per layer\n", (long long)(L - P), 1e3 * cached / layers);
    std::printf("  lm_head on %d rows:          %8.1f ms per step\n", answer, 1e3 * head);
    std::printf("  speed-up from prefilling: %.2fx per layer\n", full / cached);
}
