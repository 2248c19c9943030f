#include "cli/common.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/memory.h"
#include "io/npy.h"

namespace dimple::cli {

namespace fs = std::filesystem;

void add_model_options(Command& cmd, ModelOptions& o, bool shipped_default) {
    cmd.option("-m,--model", o.dir,
               shipped_default ? "Model folder (Hugging Face layout; default: the shipped models/dimple-shapes)"
                               : "Model folder (Hugging Face layout)");
    if (!shipped_default) cmd.required();
    cmd.option("--compute", o.compute,
               "f32 (exact) | bf16 | int8 (fastest, smallest) | auto (the fastest that fits in memory)")
        .show_default();
    cmd.option("--memory-limit", o.memory_limit,
               "Memory the model may use, e.g. 12G (default: what the machine and cgroup have available)");
    cmd.option("--threads", o.threads, "Threads (0: all cores)").show_default();
    cmd.option("--chat-template", o.chat_template, "Force a chat template family: qwen2 | qwen2-vl");
}

void add_prompt_limit_option(Command& cmd, ModelOptions& o) {
    cmd.option("--max-prompt-tokens", o.limits.prompt_tokens,
               "Longest prompt, image tokens included (the working memory is sized for it)")
        .range(1, 1e18)
        .show_default();
}

EngineOptions engine_options(const ModelOptions& o) {
    EngineOptions e;
    e.limits = o.limits;
    e.compute = parse_compute(o.compute);
    if (!o.memory_limit.empty()) e.memory_limit = parse_byte_size(o.memory_limit, "--memory-limit");
    e.chat_template = o.chat_template;
    return e;
}

std::string model_dir(const ModelOptions& o) {
    if (!o.dir.empty()) return o.dir;
    std::vector<fs::path> tried;
    if (const char* env = std::getenv("DIMPLE_DEFAULT_MODEL"); env && *env) {
        tried.push_back(env);
    } else {
        std::error_code ec;
        const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
        if (!ec) {
            tried.push_back(exe.parent_path() / ".." / "models" / "dimple-shapes");  // the build tree
            tried.push_back(exe.parent_path() / ".." / "share" / "dimple" / "models" / "dimple-shapes");  // installed
        }
        tried.push_back(fs::path(DIMPLE_SOURCE_DIR) / "models" / "dimple-shapes");
    }
    std::string places;
    for (const fs::path& dir : tried) {
        if (fs::is_regular_file(dir / "config.json")) return dir.lexically_normal().string();
        places += "\n  " + dir.lexically_normal().string();
    }
    fail("no --model given and the shipped model models/dimple-shapes is not in any of:", places,
         "\n(pass --model DIR, or set DIMPLE_DEFAULT_MODEL to a model folder)");
}

void add_pixel_options(Command& cmd, PixelOptions& o) {
    cmd.option("--pixel-values", o.path, "f32 (N, 1176) .npy of processor rows, instead of image files");
    cmd.option("--grid", o.grids, "t,h,w of each image in --pixel-values (repeatable)");
}

namespace {

ImageGrid parse_grid(const std::string& s) {
    const std::vector<int64_t> v = parse_id_list(s, "--grid");
    check(v.size() == 3 && v[0] >= 1 && v[1] >= 2 && v[2] >= 2 && v[1] % 2 == 0 && v[2] % 2 == 0,
          "--grid '", s, "' must be t,h,w with even h and w");
    return {v[0], v[1], v[2]};
}

}  // namespace

PixelInput read_pixel_input(const PixelOptions& o) {
    PixelInput in;
    if (o.path.empty()) {
        check(o.grids.empty(), "--grid describes the images of --pixel-values, which was not given");
        return in;
    }
    for (const std::string& g : o.grids) in.grids.push_back(parse_grid(g));
    check(!in.grids.empty(), "--pixel-values needs --grid t,h,w for each image");
    in.pixels = read_npy(o.path);
    int64_t rows = 0;
    for (const ImageGrid& g : in.grids) rows += g.t * g.h * g.w;
    check(in.pixels.dtype() == DType::F32 && in.pixels.ndim() == 2 && in.pixels.dim(0) == rows, o.path,
          ": expected f32 rows [", rows, ", patch dim] for the grids given, got ", dtype_name(in.pixels.dtype()), " ",
          shape_str(in.pixels.shape()));
    return in;
}

std::vector<int64_t> parse_id_list(const std::string& s, const std::string& option) {
    std::vector<int64_t> ids;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        int64_t v = 0;
        const auto r = std::from_chars(s.data() + start, s.data() + end, v);
        check(r.ec == std::errc() && r.ptr == s.data() + end && end > start, option, ": '",
              s.substr(start, end - start), "' is not an integer id");
        ids.push_back(v);
        start = end + 1;
    }
    return ids;
}

}  // namespace dimple::cli
