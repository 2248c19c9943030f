// The shared goldens' generation runs (generation.json): options of a run and whether a result
// reproduces it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "decode/generate.h"

namespace dtest {

nlohmann::json load_generation_runs(const std::string& golden_dir);
// The original call's defaults (quirk G1) overridden by the run's spec and prior.
dimple::GenerateOptions golden_run_options(const nlohmann::json& run, const nlohmann::json& top);
// Empty when `r` reproduces the run (history, steps run, tokens fed per step); else what differs.
std::string golden_run_difference(const dimple::GenerateResult& r, const nlohmann::json& run);

}  // namespace dtest
