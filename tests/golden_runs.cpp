#include "golden_runs.h"

#include <filesystem>
#include <fstream>

#include "io/npy.h"

using namespace dimple;
using nlohmann::json;

namespace dtest {

namespace {

template <typename T>
std::optional<T> optional_of(const json& s, const char* key) {
    if (!s.contains(key) || s[key].is_null()) return std::nullopt;
    return s[key].get<T>();
}

}  // namespace

json load_generation_runs(const std::string& golden_dir) {
    return json::parse(std::ifstream(golden_dir + "/generation.json"));
}

GenerateOptions golden_run_options(const json& run, const json& top) {
    const json& s = run["spec"];
    GenerateOptions o;
    o.max_new_tokens = top["max_new_tokens"].get<int>();
    o.steps = s.value("steps", 512);
    o.pipeline = parse_pipeline(s.value("decoding_pipeline", "dim"));
    o.alg = parse_algorithm(s.value("alg", "origin"));
    o.sampling.temperature = s.value("temperature", 1.0f);
    o.sampling.top_p = optional_of<float>(s, "top_p");
    o.sampling.top_k = s.contains("top_k") ? optional_of<int>(s, "top_k") : std::optional<int>(50);
    o.alg_temp = optional_of<float>(s, "alg_temp").value_or(0.f);
    o.use_original_confidence = s.value("use_original_confidence", true);
    o.threshold = optional_of<float>(s, "alg_p_threshold");
    o.use_cache = s.value("use_cache", false);
    if (run.contains("prior") && run["prior"].is_object())
        for (auto& [k, v] : run["prior"].items()) o.fixed[std::stoll(k)] = v.get<int64_t>();
    return o;
}

std::string golden_run_difference(const GenerateResult& r, const json& run) {
    const auto golden = run["history_answer"].get<std::vector<std::vector<int64_t>>>();
    if (r.steps_run != run["n_steps_run"].get<int>())
        return "ran " + std::to_string(r.steps_run) + " steps, golden " + run["n_steps_run"].dump();
    for (size_t i = 0; i < golden.size(); ++i) {
        if (r.history[i] != golden[i]) return "history differs at step " + std::to_string(i);
        if (i < r.debug.size() && !r.debug[i].mask_positions.empty() &&
            r.debug[i].tokens_fed != run["step_debug"][i]["n_in"].get<int64_t>())
            return "fed " + std::to_string(r.debug[i].tokens_fed) + " tokens at step " + std::to_string(i);
    }
    return "";
}

}  // namespace dtest

namespace dtest {

std::vector<ImageGrid> golden_grids(const std::string& dir, const std::string& prefix) {
    std::vector<ImageGrid> grids;
    const std::string path = dir + "/" + prefix + "_grid_thw.npy";
    if (!std::filesystem::exists(path)) return grids;
    const Tensor g = read_npy(path);
    for (int64_t i = 0; i < g.dim(0); ++i)
        grids.push_back({g.data<int64_t>()[i * 3], g.data<int64_t>()[i * 3 + 1], g.data<int64_t>()[i * 3 + 2]});
    return grids;
}

std::vector<std::string> golden_cases(const std::string& dir) {
    std::vector<std::string> cases;
    for (const char* c : {"text", "batch", "image", "two"})
        if (std::filesystem::exists(dir + "/" + std::string(c) + "_input_ids.npy")) cases.push_back(c);
    return cases;
}

Prompt golden_prompt(const LanguageModel& lm, const std::string& dir, const std::string& prefix) {
    const Tensor t = read_npy(dir + "/" + prefix + "_input_ids.npy");
    const std::vector<int64_t> ids(t.data<int64_t>(), t.data<int64_t>() + t.numel());
    const std::vector<ImageGrid> grids = golden_grids(dir, prefix);
    if (grids.empty()) return make_prompt(lm, ids);
    const Tensor rows = read_npy(dir + "/" + prefix + "_projected.npy");
    return make_prompt(lm, ids, grids, &rows);
}

std::string id_list(const nlohmann::json& ids) {
    std::string s;
    for (const nlohmann::json& id : ids) {
        if (!s.empty()) s += ',';
        s += std::to_string(id.get<int64_t>());
    }
    return s;
}

nlohmann::json read_python_json(const std::string& path) {
    std::string text = dimple::read_text_file(path);
    for (const std::string word : {"-Infinity", "Infinity", "NaN"})
        for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at)) text.replace(at, word.size(), "null");
    return nlohmann::json::parse(text);
}

}  // namespace dtest
