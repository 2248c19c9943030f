// The shared goldens' generation runs (generation.json): options of a run and whether a result
// reproduces it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "decode/generate.h"
#include "model/prompt.h"

namespace dtest {

nlohmann::json load_generation_runs(const std::string& golden_dir);
// A JSON file as Python's json module wrote it: its -Infinity / Infinity / NaN (margins of steps
// without a runner-up in the LLaDA goldens), which JSON lacks, read as null.
nlohmann::json read_python_json(const std::string& path);
// A JSON list of ids as the command line takes them: "1,2,3".
std::string id_list(const nlohmann::json& ids);
// The original call's defaults (quirk G1) overridden by the run's spec and prior.
dimple::GenerateOptions golden_run_options(const nlohmann::json& run, const nlohmann::json& top);
// Empty when `r` reproduces the run (history, steps run, tokens fed per step); else what differs.
std::string golden_run_difference(const dimple::GenerateResult& r, const nlohmann::json& run);

}  // namespace dtest

namespace dtest {

// The image grids of a golden forward case (P_grid_thw.npy), or none for text-only cases.
std::vector<dimple::ImageGrid> golden_grids(const std::string& dir, const std::string& prefix);
// The forward cases a golden set holds ("text", "batch", and for vision models "image", "two").
std::vector<std::string> golden_cases(const std::string& dir);
// The prompt of a golden case (PREFIX_input_ids.npy), its image rows from the golden projector
// output (PREFIX_projected.npy), so that what runs on it covers the language model alone.
dimple::Prompt golden_prompt(const dimple::LanguageModel& lm, const std::string& dir, const std::string& prefix);

}  // namespace dtest
