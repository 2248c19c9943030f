// LLaDA-V end to end at its full size: a synthetic checkpoint with the published configuration
// (model/synthetic_published.h: LLaDA-8B's language model, the SigLIP so400m tower's 26 kept layers,
// mlp2x_gelu, image_newline, anyres_max_4), random bf16 weights, written once; `dimple quantize`
// writes the int8 folder. Then:
//  - vision: the tower and projector alone, loaded in each compute mode, encode a 384x384 image
//    (base + 1 tile: 2 crops) and a 768x768 one (base + 4 tiles: 5 crops), in this process;
//  - the `dimple` binary answers one image question (the 384x384 image, prompt as ids: the synthetic
//    folder has no tokenizer) in each mode with and without prefilling and with LLaDA-V's demo
//    dLLM-Cache, under /usr/bin/time -v.
// Reported: load time, peak RSS, prompt time (vision included), time per step. Random weights, so
// the answer is noise: memory and time are the point.
//   bench_llada_v [--dir D] [--layers 32] [--tower-layers 26] [-n 8] [--modes int8,bf16]
//                 [--vision-modes int8,bf16,f32] [--dllm-cache 25,7,0.25] [--threads T] [--dimple BIN]
//                 [--skip-runs] [--skip-vision]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/threads.h"
#include "dimple_runs.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "model/synthetic_published.h"
#include "vision/llava_encoder.h"

using namespace dimple;
using namespace dimple::bench;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\n<image>\n{question}<|eot_id|>
// <|start_header_id|>assistant<|end_header_id|>\n\n" with -200 for the image and arbitrary ids for
// the question's words (random weights: which words does not matter, how many does).
const char* kPromptIds = "126080,126346,3840,126347,198,-200,198,3838,374,304,279,6683,30,126348,126346,598,126347,198";

Image pattern_image(int w, int h) {
    Image im{w, h, std::vector<uint8_t>(size_t(w) * size_t(h) * 3)};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t* p = &im.rgb[(size_t(y) * size_t(w) + size_t(x)) * 3];
            p[0] = uint8_t((x ^ y) & 255), p[1] = uint8_t(y * 255 / h), p[2] = uint8_t(x * 255 / w);
        }
    return im;
}

void write_checkpoint(const std::string& dir, int layers, int tower_layers) {
    const std::string tmp = dir + ".partial";  // renamed into place: an interrupted write is not reused
    fs::remove_all(tmp);
    std::printf("writing %s (%d layers, %d tower layers, bf16) ...\n", dir.c_str(), layers, tower_layers);
    const double t0 = now();
    auto progress = [t0, last = 0.0](uint64_t done, uint64_t total) mutable {
        if (now() - last < 5 && done < total) return;
        last = now();
        std::printf("  %.2f / %.2f GB, %.0f s\n", double(done) * 1e-9, double(total) * 1e-9, last - t0);
        std::fflush(stdout);
    };
    write_synthetic_model(tmp, llada_v_model(layers, tower_layers), {DType::BF16, 6, 7, 0.02f}, progress);
    fs::rename(tmp, dir);
    std::printf("wrote %.2f GB of weights in %.0f s\n", double(folder_weight_bytes(dir)) * 1e-9, now() - t0);
}

// The vision path alone in each mode: load, then one encode per image size (seconds).
void bench_vision(const std::string& dir, const std::vector<std::string>& modes) {
    const ModelConfig cfg = load_model_config(dir);
    const Checkpoint ck(dir);
    std::printf("\n%-6s %8s %14s %14s\n", "mode", "load s", "384x384 s", "768x768 s");
    for (const std::string& mode : modes) {
        const double t0 = now();
        const LlavaVisionEncoder enc(ck, *cfg.llava, cfg.hidden_size, parse_compute(mode));
        const double load = now() - t0;
        std::vector<double> s;
        for (int side : {384, 768}) {
            const Image im = pattern_image(side, side);
            const double t1 = now();
            const Tensor rows = enc.encode(im);
            s.push_back(now() - t1);
            if (rows.dim(0) != enc.rows_for(side, side)) std::printf("  unexpected row count\n");
        }
        std::printf("%-6s %8.1f %14.2f %14.2f\n", mode.c_str(), load, s[0], s[1]);
        std::fflush(stdout);
    }
}

struct Row {
    std::string label;
    Measured m;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"LLaDA-V (synthetic, full configuration) end to end through the dimple binary"};
    int layers = 32, tower_layers = 26, answer = 8, threads = 0;
    std::string dir, dimple, dllm_cache = "25,7,0.25";
    std::vector<std::string> modes{"int8", "bf16"}, vision_modes{"int8", "bf16", "f32"};
    bool skip_runs = false, skip_vision = false;
    app.add_option("--dir", dir, "Checkpoint folder (written once; default /tmp/llada-v-synthetic[-L<l>-T<t>])");
    app.add_option("--layers", layers, "Language model layers")->check(CLI::Range(1, 32));
    app.add_option("--tower-layers", tower_layers, "SigLIP layers present")->check(CLI::Range(1, 26));
    app.add_option("-n,--answer", answer, "Answer tokens (= steps, one block)")->check(CLI::Range(1, 1024));
    app.add_option("--modes", modes, "Compute modes of the dimple runs: int8 runs the quantized folder")->delimiter(',');
    app.add_option("--vision-modes", vision_modes, "Compute modes of the vision-only measurement")->delimiter(',');
    app.add_option("--threads", threads, "Threads (0: all cores)");
    app.add_option("--dimple", dimple, "The dimple binary (default: beside this program's folder)");
    app.add_option("--dllm-cache", dllm_cache, "Also run each mode with this dLLM-Cache (P,G,R; '' for none)");
    int picture = 384;
    app.add_option("--picture", picture, "Side of the generated picture asked about (768: base + 4 tiles)")
        ->check(CLI::Range(28, 4096));
    std::vector<std::string> ways{"prefilling", "no-prefilling", "dllm-cache"};
    app.add_option("--ways", ways, "Ways of decoding run in each mode")
        ->delimiter(',')
        ->check(CLI::IsMember({"prefilling", "no-prefilling", "dllm-cache"}));
    app.add_flag("--skip-runs", skip_runs, "Only write the folders and time the vision path");
    app.add_flag("--skip-vision", skip_vision, "No vision-only measurement");
    CLI11_PARSE(app, argc, argv);
    const bool full = layers == 32 && tower_layers == 26;
    if (dir.empty())
        dir = "/tmp/llada-v-synthetic" +
              (full ? std::string() : "-L" + std::to_string(layers) + "-T" + std::to_string(tower_layers));
    if (dimple.empty()) dimple = default_dimple_binary();
    set_num_threads(threads);
    const std::string int8_dir = dir + "-int8";
    // The bf16 folder (16.9 GB) is needed for the vision-only measurement, a float mode's runs, or
    // to quantize from; an int8-only run on an existing int8 folder goes without it.
    const bool float_runs = std::any_of(modes.begin(), modes.end(), [](const std::string& m) { return m != "int8"; });
    const bool need_float = !skip_vision || float_runs || !fs::exists(fs::path(int8_dir) / "config.json");
    if (need_float && !fs::exists(fs::path(dir) / "config.json")) write_checkpoint(dir, layers, tower_layers);
    if (need_float) std::printf("%s: %.2f GB of weights\n", dir.c_str(), double(folder_weight_bytes(dir)) * 1e-9);
    if (!fs::exists(fs::path(int8_dir) / "config.json")) {
        const Measured q = measure(dimple, "quantize --model " + shell_quoted(dir) + " --out " + shell_quoted(int8_dir));
        std::printf("  quantize: %.0f s, peak RSS %.2f GiB, %.2f GB written\n", q.wall_s, q.peak_rss_gib,
                    q.rc == 0 ? double(folder_weight_bytes(int8_dir)) * 1e-9 : 0.0);
    }
    if (!fs::exists(fs::path(int8_dir) / "model.packed")) {
        const Measured q = measure(dimple, "quantize --model " + shell_quoted(int8_dir) + " --packed");
        std::printf("  quantize --packed: %.0f s, peak RSS %.2f GiB\n", q.wall_s, q.peak_rss_gib);
    }
    if (!skip_vision) bench_vision(dir, vision_modes);
    if (skip_runs) return 0;

    const std::string image =
        (fs::temp_directory_path() / ("bench_llada_v_" + std::to_string(picture) + ".bmp")).string();
    write_pattern_bmp(image, picture, picture);
    // --max-prompt-tokens: the plan sizes the working memory for this prompt (384x384: 1485 image
    // rows + 17; 768x768: 3645 + 17).
    const std::string common = "--image " + shell_quoted(image) + " --prompt-ids " + kPromptIds + " -n " +
                               std::to_string(answer) + " -s " + std::to_string(answer) +
                               " -t 0 --json --max-prompt-tokens " + (picture > 384 ? "7400" : "1600") +
                               (threads ? " --threads " + std::to_string(threads) : "");
    std::vector<Row> rows;
    // Each mode: prefilling, LLaDA-V's own call (no prefilling), and its demo's dLLM-Cache.
    const std::vector<std::pair<std::string, std::string>> settings = [&] {
        const auto asked = [&](const char* way) { return std::find(ways.begin(), ways.end(), way) != ways.end(); };
        std::vector<std::pair<std::string, std::string>> v;
        if (asked("prefilling")) v.push_back({"prefilling", "--cache"});
        if (asked("no-prefilling")) v.push_back({"no prefilling", "--no-cache"});
        if (asked("dllm-cache") && !dllm_cache.empty())
            v.push_back({"dLLM-Cache " + dllm_cache, "--no-cache --dllm-cache " + dllm_cache});
        return v;
    }();
    for (const std::string& mode : modes)
        for (const auto& [name, flags] : settings) {
            const std::string model = mode == "int8" ? int8_dir : dir;
            rows.push_back({mode + (mode == "int8" ? " folder, " : ", ") + name,
                            measure(dimple, "run --model " + shell_quoted(model) + " " + common + " --compute " + mode +
                                                " " + flags)});
            if (rows.back().m.rc == 0) std::printf("  %s\n", plan_line(rows.back().m.stderr_).c_str());
        }

    // answer s: what a user waits for after loading (the prompt with its image, then every step).
    std::printf("\n%-34s %-6s %8s %9s %7s %6s %9s %12s %9s %8s %9s\n", "run", "mode", "load s", "prompt s", "tokens",
                "steps", "step 1 s", "then s/step", "answer s", "wall s", "peak GiB");
    int failed = 0;
    for (const Row& r : rows) {
        const json& j = r.m.out;
        if (r.m.rc != 0 || !j.is_object()) {
            std::printf("%-34s failed (exit status %d)\n", r.label.c_str(), r.m.rc);
            ++failed;
            continue;
        }
        const StepTimes t = step_times(j);
        const double answer_s = double(j["timing"]["prompt_s"]) + double(j["timing"]["generate_s"]);
        std::printf("%-34s %-6s %8.1f %9.1f %7zu %6d %9.2f %12.2f %9.1f %8.1f %9.2f\n", r.label.c_str(),
                    std::string(j["compute"]).c_str(), double(j["timing"]["load_s"]), double(j["timing"]["prompt_s"]),
                    size_t(j["prompt_tokens"]), int(j["steps"]), t.first, t.later, answer_s, r.m.wall_s,
                    r.m.peak_rss_gib);
    }
    return failed ? 1 : 0;
}
