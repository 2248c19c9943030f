// `dimple quantize --model DIR --out DIR2`: writes an int8 copy of a model folder (see
// model/quantize_checkpoint.h for the naming), showing progress on a terminal.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/memory.h"
#include "core/threads.h"
#include "model/quantize_checkpoint.h"

namespace dimple::cli {

namespace {

struct Options {
    std::string model_dir, out_dir;
    int threads = 0;
};

void run(const Options& o) {
    set_num_threads(o.threads);
    const auto t0 = std::chrono::steady_clock::now();
    const bool live = isatty(STDERR_FILENO);
    quantize_checkpoint(o.model_dir, o.out_dir, [&](const QuantizeProgress& p) {
        if (live) std::fprintf(stderr, "\r\033[K[%d/%d] %s", p.done, p.total, p.name.c_str());
    });
    if (live) std::fprintf(stderr, "\r\033[K");
    std::printf("wrote %s/model.safetensors in %.1f s\n", o.out_dir.c_str(), seconds_since(t0));
}

}  // namespace

void add_quantize_command(Command& program) {
    auto o = std::make_shared<Options>();
    Command& cmd = program.subcommand("quantize", "Write an int8 copy of a model folder (loads with --compute int8 "
                                                   "without quantizing again)");
    cmd.option("-m,--model", o->model_dir, "Model folder (Hugging Face layout, f32/f16/bf16 weights)").required();
    cmd.option("-o,--out", o->out_dir, "Folder to write (created; must not hold a model.safetensors)").required();
    cmd.option("--threads", o->threads, "Threads (0: all cores)").show_default();
    cmd.on_run([o] { run(*o); });
}

}  // namespace dimple::cli
