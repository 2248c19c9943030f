// `dimple quantize --model DIR --out DIR2 [--packed]`: writes an int8 copy of a model folder (see
// model/quantize_checkpoint.h for the naming), showing progress on a terminal; with --packed also
// this machine's packed layout of it (io/packed_weights.h), which an int8 folder can get later too.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/threads.h"
#include "engine/engine.h"
#include "model/quantize_checkpoint.h"

namespace dimple::cli {

namespace {

namespace fs = std::filesystem;

struct Options {
    std::string model_dir, out_dir;
    bool packed = false;
    int threads = 0;
};

bool is_int8_folder(const std::string& dir) {
    const Checkpoint ck(dir);
    for (const Checkpoint::Item& item : ck.items())
        if (item.entry->dtype == DType::I8) return true;
    return false;
}

// Loads the int8 folder as `run` would, storing each layer's packed weights as they are made.
void write_packed(const std::string& dir) {
    const auto t0 = std::chrono::steady_clock::now();
    check(is_int8_folder(dir), dir, ": --packed needs an int8 folder (one that `dimple quantize` wrote)");
    const std::string path = (fs::path(dir) / kPackedWeightsFile).string();
    PackedWeightsWriter writer(path);
    EngineOptions options;
    options.compute = Compute::Int8;
    options.record_packed = &writer;
    const Engine engine(dir, options);
    writer.finish();
    std::printf("wrote %s: %zu layers, %.2f GB, in %.1f s (loads on CPUs whose oneDNN layout is this one's; "
                "others repack from model.safetensors)\n",
                path.c_str(), writer.layers(), double(fs::file_size(path)) / 1e9, seconds_since(t0));
}

void run(const Options& o) {
    set_num_threads(o.threads);
    check(!o.out_dir.empty() || o.packed, "dimple quantize: --out is required (or --packed for an int8 folder)");
    if (o.out_dir.empty()) return write_packed(o.model_dir);
    const auto t0 = std::chrono::steady_clock::now();
    const bool live = isatty(STDERR_FILENO);
    quantize_checkpoint(o.model_dir, o.out_dir, [&](const QuantizeProgress& p) {
        if (live) std::fprintf(stderr, "\r\033[K[%d/%d] %s", p.done, p.total, p.name.c_str());
    });
    if (live) std::fprintf(stderr, "\r\033[K");
    std::printf("wrote %s/model.safetensors in %.1f s\n", o.out_dir.c_str(), seconds_since(t0));
    if (o.packed) write_packed(o.out_dir);
}

}  // namespace

void add_quantize_command(Command& program) {
    auto o = std::make_shared<Options>();
    Command& cmd = program.subcommand("quantize", "Write an int8 copy of a model folder (loads with --compute int8 "
                                                   "without quantizing again)");
    cmd.option("-m,--model", o->model_dir, "Model folder (Hugging Face layout, f32/f16/bf16 weights)").required();
    cmd.option("-o,--out", o->out_dir, "Folder to write (created; must not hold a model.safetensors)");
    cmd.flag("--packed", o->packed,
             "Also store the weights in this CPU's product layout (model.packed, about the int8 size again): "
             "the folder then loads by mapping them. Without --out: add it to the int8 folder --model");
    cmd.option("--threads", o->threads, "Threads (0: all cores)").show_default();
    cmd.on_run([o] { run(*o); });
}

}  // namespace dimple::cli
