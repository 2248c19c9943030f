// Options and helpers that several subcommands share.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "engine/engine.h"

namespace dimple::cli {

struct ModelOptions {
    std::string dir;  // empty: the shipped model (see model_dir)
    std::string compute = "auto";
    std::string memory_limit;
    std::string chat_template;
    int threads = 0;
    RequestLimits limits;  // the largest request: each command sets it from its own options
};

// --model is required unless `shipped_default`: then an absent --model means the shipped model.
void add_model_options(Command& cmd, ModelOptions& o, bool shipped_default = false);
// --max-prompt-tokens, for the commands that take prompts (run, eval; serve has its own limits).
void add_prompt_limit_option(Command& cmd, ModelOptions& o);
EngineOptions engine_options(const ModelOptions& o);

// The folder to load: --model when given, else the shipped model models/dimple-shapes, looked for
// in $DIMPLE_DEFAULT_MODEL (when set, the only place tried), <executable's folder>/../models (a build), ../share/dimple/models (an install), and
// the source tree the executable was built from. Errors name every place tried.
std::string model_dir(const ModelOptions& o);

// Images given as raw processor rows (--pixel-values PV.npy --grid t,h,w [--grid ...]), as the
// goldens record them: `dimple forward` and `dimple run` take them alike.
struct PixelOptions {
    std::string path;
    std::vector<std::string> grids;
};
struct PixelInput {
    Tensor pixels;  // f32 [sum of t*h*w, patch dim]
    std::vector<ImageGrid> grids;
};
void add_pixel_options(Command& cmd, PixelOptions& o);
// Reads the rows and parses the grids (t,h,w with even h and w, one per image); the rows must
// match the grids. Empty when no --pixel-values was given.
PixelInput read_pixel_input(const PixelOptions& o);

// "1,2,3" -> ids; errors name the option.
std::vector<int64_t> parse_id_list(const std::string& s, const std::string& option);

inline double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace dimple::cli
