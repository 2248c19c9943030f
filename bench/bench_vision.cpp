// Vision encoder speed at Qwen2.5-VL width (hidden 1280, 16 heads, inter 3420, merger to 3584,
// projector 3584 -> 3584) on a random bf16 checkpoint with a few blocks, the last one full
// attention. Encodes the patches of a 448x448 and a 1024x768 picture in each compute mode and
// reports milliseconds per image and per block. tools/bench_vision_torch.py measures the same
// shapes through PyTorch; BENCHMARKS.md records both.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/block_cache.h"
#include "core/threads.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "model/synthetic.h"
#include "vision/encoder.h"

using namespace dimple;
namespace fs = std::filesystem;

namespace {

std::string bench_config(int depth) {
    // The language model part is as small as the config checks allow: only its width matters here.
    return R"({"model_type": "dimple", "hidden_size": 3584, "intermediate_size": 16,
      "num_hidden_layers": 1, "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 16,
      "mrope_section": [16, 24, 24], "mask_token_id": 15, "pad_token_id": 14, "image_token_id": 13,
      "vision_config": {"depth": )" +
           std::to_string(depth) + R"(, "hidden_size": 1280, "intermediate_size": 3420,
        "num_heads": 16, "out_hidden_size": 3584, "fullatt_block_indexes": [)" +
           std::to_string(depth - 1) + R"(], "patch_size": 14, "spatial_merge_size": 2,
        "temporal_patch_size": 2, "window_size": 112}})";
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Vision encoder benchmark (synthetic Qwen2.5-VL-width checkpoint)"};
    int threads = 0, repeat = 3, depth = 4;
    std::string dir = (fs::temp_directory_path() / "dimple-bench-vision").string();
    std::vector<std::string> modes{"bf16", "f32"};
    int block_cache_mib = int(block_cache::kDefaultMaxBytes >> 20);
    app.add_option("--threads", threads, "Threads (0: all hardware threads)");
    app.add_option("--repeat", repeat, "Timed encodes per image (the best is reported)")->check(CLI::PositiveNumber);
    app.add_option("--depth", depth, "Vision blocks; the last one attends over the whole image")
        ->check(CLI::Range(2, 32));
    app.add_option("--dir", dir, "Checkpoint folder (written once, reused when its config matches)");
    app.add_option("--modes", modes, "Compute modes to run (f32, bf16)");
    app.add_option("--block-cache-mib", block_cache_mib,
                   "Freed tensor buffers kept for reuse (0: every one goes back to malloc, as before the cache)")
        ->check(CLI::NonNegativeNumber);
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);
    block_cache::set_max_bytes(size_t(block_cache_mib) << 20);

    const std::string config = bench_config(depth);
    const fs::path config_path = fs::path(dir) / "config.json";
    if (!fs::exists(config_path) || read_text_file(config_path.string()) != config) {
        const auto t0 = std::chrono::steady_clock::now();
        write_synthetic_checkpoint(dir, config, {DType::BF16, 1, 1, 0.02f});
        std::printf("wrote %s in %.1f s\n", dir.c_str(), ms_since(t0) / 1000);
    }
    const ModelConfig cfg = load_model_config(dir);
    const Checkpoint ck(dir);

    // Grids from the processor's smart_resize (factor 28, max_pixels 1003520): 448x448 stays
    // 448x448 -> (1, 32, 32); 1024x768 becomes 1036x756 -> (1, 54, 74).
    struct Case {
        const char* name;
        ImageGrid grid;
    };
    const Case cases[] = {{"448x448", {1, 32, 32}}, {"1024x768", {1, 54, 74}}};
    std::printf("threads %d, depth %d (full attention: block %d), block cache %d MiB\n", num_threads(), depth, depth - 1,
                block_cache_mib);
    for (const std::string& mode : modes) {
        const Compute compute = parse_compute(mode);
        auto t0 = std::chrono::steady_clock::now();
        const VisionEncoder enc(ck, cfg, compute);
        std::printf("%s: load + pack %.0f ms\n", mode.c_str(), ms_since(t0));
        for (const Case& c : cases) {
            const int64_t n = c.grid.t * c.grid.h * c.grid.w;
            Tensor pixels = Tensor::f32({n, cfg.vision->patch_dim()});
            std::mt19937 rng(7);
            std::normal_distribution<float> normal(0.f, 1.f);
            for (int64_t i = 0; i < pixels.numel(); ++i) pixels.data<float>()[i] = normal(rng);

            enc.encode(pixels, {&c.grid, 1});  // warm-up: primitives for these row counts
            double best = 1e30;
            for (int r = 0; r < repeat; ++r) {
                t0 = std::chrono::steady_clock::now();
                enc.encode(pixels, {&c.grid, 1});
                best = std::min(best, ms_since(t0));
            }
            VisionTrace trace;  // one more run, timing each block
            t0 = std::chrono::steady_clock::now();
            enc.encode(pixels, {&c.grid, 1}, &trace);
            const double traced = ms_since(t0);
            double windowed = 0, blocks = 0;
            for (int b = 0; b < depth - 1; ++b) windowed += trace.block_ms[size_t(b)];
            for (double ms : trace.block_ms) blocks += ms;
            std::printf("%-5s %-9s %5lld patches  %9.1f ms/image (best of %d)  window block %7.1f ms"
                        "  full block %7.1f ms  (traced run: blocks %.0f of %.0f ms)\n",
                        mode.c_str(), c.name, static_cast<long long>(n), best, repeat,
                        windowed / (depth - 1), trace.block_ms.back(), blocks, traced);
        }
    }
    return 0;
}
