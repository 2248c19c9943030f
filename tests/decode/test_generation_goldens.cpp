// Every `usable` generation run of every golden set reproduced token for token, history included,
// in f32 compute mode: the shared tiny-a (the original implementation's decoding) and the project
// reference's sets of other shapes. Image rows come from the goldens' projector output, so this
// covers the language model and decoding alone (tests/engine covers the whole path).
#include <gtest/gtest.h>

#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;

class GenerationGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerationGoldens, EveryUsableRunMatchesTokenForToken) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const auto gen = dtest::load_generation_runs(dir);
    const Checkpoint ckpt(dir + "/model");
    const LanguageModel lm(ckpt, load_model_config(dir + "/model"), Compute::F32);
    auto prompt_of = [&](const std::string& prefix) {
        const Tensor t = read_npy(dir + "/" + prefix + "_input_ids.npy");
        const std::vector<int64_t> ids(t.data<int64_t>(), t.data<int64_t>() + t.numel());
        const std::vector<ImageGrid> grids = dtest::golden_grids(dir, prefix);
        if (grids.empty()) return make_prompt(lm, ids);
        const Tensor rows = read_npy(dir + "/" + prefix + "_projected.npy");
        return make_prompt(lm, ids, grids, &rows);
    };
    std::map<std::string, Prompt> prompts;

    int usable = 0, matched = 0, deterministic = 0, deterministic_matched = 0;
    for (const auto& run : gen["runs"]) {
        if (!run["deterministic"].get<bool>()) continue;
        const std::string name = run["prompt"].get<std::string>();
        if (!prompts.count(name)) prompts.emplace(name, prompt_of(name));
        const GenerateResult r = generate(lm, prompts.at(name), dtest::golden_run_options(run, gen), {}, true);
        const std::string diff = dtest::golden_run_difference(r, run);
        ++deterministic;
        deterministic_matched += diff.empty();
        if (!run["usable"].get<bool>()) continue;
        ++usable;
        matched += diff.empty();
        if (!diff.empty())
            ADD_FAILURE() << name << " run " << run["spec"].dump() << " prior " << run["prior_name"] << ": " << diff;
    }
    std::printf("%s: usable runs matched %d / %d; deterministic runs matched %d / %d\n", GetParam().c_str(),
                matched, usable, deterministic_matched, deterministic);
    if (GetParam() == "tiny-a") {
        EXPECT_EQ(usable, 199);
    }
    EXPECT_GT(usable, 20);
    EXPECT_EQ(matched, usable);
}

INSTANTIATE_TEST_SUITE_P(Sets, GenerationGoldens, ::testing::ValuesIn(dtest::golden_sets()),
                         dtest::GoldenSetName());
