// Running the `dimple` binary as a user would, under /usr/bin/time -v, for the full-size benchmarks
// (bench_7b, bench_llada_v): its --json answer, what it said on stderr, wall time and peak RSS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace dimple::bench {

double now();  // seconds, steady clock
std::string shell_quoted(const std::string& s);
uint64_t folder_weight_bytes(const std::filesystem::path& dir);  // its .safetensors files

struct Measured {
    int rc = 0;
    nlohmann::json out;   // the command's --json answer (run) or empty
    std::string stderr_;  // what it said (the compute plan, errors)
    double wall_s = 0, peak_rss_gib = 0;
};

// Runs `dimple args`, its stdout and stderr kept apart; prints the command line first.
Measured measure(const std::string& dimple, const std::string& args);

// The line `dimple` prints on stderr under --compute auto: what it picked and why ("" if none).
std::string plan_line(const std::string& err);

// The first step (with prefilling it also fills the prompt's cache) and the mean of the others.
struct StepTimes {
    double first = 0, later = 0;
};
StepTimes step_times(const nlohmann::json& run);

// A 24-bit BMP of a smooth colour pattern (R = x ^ y, G = y * 255 / h, B = x * 255 / w): a picture
// of any size for `dimple run --image`, written without an image encoder in the project.
void write_pattern_bmp(const std::string& path, int w, int h);

// The `dimple` binary beside the folder holding the running program (build/bench/.. -> build/dimple).
std::string default_dimple_binary();

}  // namespace dimple::bench
