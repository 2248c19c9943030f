// Options and helpers that several subcommands share.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace dimple::cli {

struct ModelOptions {
    std::string dir;
    std::string compute = "auto";
    std::string memory_limit;
    std::string chat_template;
    int threads = 0;
};

void add_model_options(CLI::App* cmd, ModelOptions& o);
EngineOptions engine_options(const ModelOptions& o);

// "1,2,3" -> ids; errors name the option.
std::vector<int64_t> parse_id_list(const std::string& s, const std::string& option);

inline double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace dimple::cli
