// Every `usable` generation run of the shared goldens (the original implementation's decoding on
// tiny-a), reproduced token for token, history included, in f32 compute mode.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "decode/generate.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

// Options of a run: the original call's defaults (quirk G1) overridden by its spec.
GenerateOptions options_of(const json& run, const json& top) {
    const json& s = run["spec"];
    GenerateOptions o;
    o.max_new_tokens = top["max_new_tokens"].get<int>();
    o.steps = s.value("steps", 512);
    o.pipeline = parse_pipeline(s.value("decoding_pipeline", "dim"));
    o.alg = parse_algorithm(s.value("alg", "origin"));
    o.sampling.temperature = s.value("temperature", 1.0f);
    o.sampling.top_p = s.contains("top_p") && !s["top_p"].is_null() ? std::optional<float>(s["top_p"].get<float>()) : std::nullopt;
    o.sampling.top_k = 50;
    if (s.contains("top_k")) o.sampling.top_k = s["top_k"].is_null() ? std::nullopt : std::optional<int>(s["top_k"].get<int>());
    o.alg_temp = s.contains("alg_temp") && !s["alg_temp"].is_null() ? s["alg_temp"].get<float>() : 0.f;
    o.use_original_confidence = s.value("use_original_confidence", true);
    o.threshold = s.contains("alg_p_threshold") && !s["alg_p_threshold"].is_null()
                      ? std::optional<float>(s["alg_p_threshold"].get<float>()) : std::nullopt;
    o.use_cache = s.value("use_cache", false);
    if (run.contains("prior") && run["prior"].is_object())
        for (auto& [k, v] : run["prior"].items()) o.fixed[std::stoll(k)] = v.get<int64_t>();
    return o;
}

struct Fixture {
    json gen;
    Checkpoint ckpt;
    LanguageModel lm;
    Prompt text, image;

    explicit Fixture(const std::string& dir)
        : gen(json::parse(std::ifstream(dir + "/generation.json"))),
          ckpt(dir + "/model"),
          lm(ckpt, load_model_config(dir + "/model"), Compute::F32) {
        auto ids_of = [&](const std::string& p) {
            const Tensor t = read_npy(dir + "/" + p + "_input_ids.npy");
            return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
        };
        text = make_prompt(lm, ids_of("text"));
        const Tensor rows = read_npy(dir + "/image_projected.npy");
        const ImageGrid grid{1, 8, 12};
        image = make_prompt(lm, ids_of("image"), {&grid, 1}, &rows);
    }
};

}  // namespace

TEST(GenerationGoldens, EveryUsableRunMatchesTokenForToken) {
    DIMPLE_REQUIRE_SHARED();
    Fixture f(dtest::golden_dir());
    int usable = 0, matched = 0, deterministic_matched = 0, deterministic = 0;
    for (const json& run : f.gen["runs"]) {
        if (!run["deterministic"].get<bool>()) continue;
        ++deterministic;
        const Prompt& prompt = run["prompt"] == "image" ? f.image : f.text;
        const GenerateResult r = generate(f.lm, prompt, options_of(run, f.gen), {}, true);
        const auto golden = run["history_answer"].get<std::vector<std::vector<int64_t>>>();
        bool same = r.history == golden && r.steps_run == run["n_steps_run"].get<int>();
        for (size_t i = 0; same && i < r.debug.size(); ++i)
            same = r.debug[i].tokens_fed == run["step_debug"][i]["n_in"].get<int64_t>() || r.debug[i].mask_positions.empty();
        deterministic_matched += same;
        if (!run["usable"].get<bool>()) continue;
        ++usable;
        matched += same;
        if (!same) {
            std::string steps;
            for (size_t i = 0; i < r.history.size() && i < golden.size(); ++i)
                if (r.history[i] != golden[i]) {
                    steps = "first differing step " + std::to_string(i);
                    break;
                }
            ADD_FAILURE() << "run differs: " << run["spec"].dump() << " prompt " << run["prompt"]
                          << " prior " << run["prior_name"] << " (" << steps << ", steps " << r.steps_run
                          << " vs " << run["n_steps_run"] << ")";
        }
    }
    std::printf("usable runs matched: %d / %d; all deterministic runs matched: %d / %d\n", matched, usable,
                deterministic_matched, deterministic);
    EXPECT_EQ(usable, 199);
    EXPECT_EQ(matched, usable);
}
