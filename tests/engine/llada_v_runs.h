// The LLaDA-V goldens' generation runs (tests/goldens/llada-v-tiny: generation.json and, with
// dLLM-Cache, cache_generation.json) replayed through the engine step by step: the tiny model, a
// run's options and the loop that compares the answers with the original's.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "decode/decode_state.h"
#include "engine/engine.h"

namespace dtest::llada_v {

std::string goldens();
const dimple::Engine& engine();
// A run's options over the family's call (LLaDA-V's: eos/bos/headers banned at masks).
dimple::GenerateOptions run_options(const nlohmann::json& run);
// Whether the engine can run it: suffixes and stop strings of several tokens are not options of ours.
bool supported(const nlohmann::json& run);
// The run's prompt as the engine builds it (photo 3's rows spliced in for image runs).
dimple::Prompt prompt_of(const nlohmann::json& run);
// Runs `run` with `opt` (random remasking replays the original's uniforms), calling `after_forward`
// after each step with the state and the step's index. Empty when the answer after every step and
// the returned ids are the original's; else what differs.
std::string replay(const nlohmann::json& run, const dimple::GenerateOptions& opt,
                   const std::function<void(const dimple::DecodeState&, size_t)>& after_forward = {});

}  // namespace dtest::llada_v
