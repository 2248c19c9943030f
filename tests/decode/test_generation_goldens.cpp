// Every `usable` generation run of the shared goldens (the original implementation's decoding on
// tiny-a), reproduced token for token, history included, in f32 compute mode. Image rows come from
// the goldens' projector output, so this covers the language model and decoding alone.
#include <gtest/gtest.h>

#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;

TEST(GenerationGoldens, EveryUsableRunMatchesTokenForToken) {
    DIMPLE_REQUIRE_SHARED();
    const std::string dir = dtest::golden_dir();
    const auto gen = dtest::load_generation_runs(dir);
    const Checkpoint ckpt(dir + "/model");
    const LanguageModel lm(ckpt, load_model_config(dir + "/model"), Compute::F32);
    auto ids_of = [&](const std::string& p) {
        const Tensor t = read_npy(dir + "/" + p + "_input_ids.npy");
        return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
    };
    const Prompt text = make_prompt(lm, ids_of("text"));
    const Tensor rows = read_npy(dir + "/image_projected.npy");
    const ImageGrid grid{1, 8, 12};
    const Prompt image = make_prompt(lm, ids_of("image"), {&grid, 1}, &rows);

    int usable = 0, matched = 0, deterministic = 0, deterministic_matched = 0;
    for (const auto& run : gen["runs"]) {
        if (!run["deterministic"].get<bool>()) continue;
        const GenerateResult r =
            generate(lm, run["prompt"] == "image" ? image : text, dtest::golden_run_options(run, gen), {}, true);
        const std::string diff = dtest::golden_run_difference(r, run);
        ++deterministic;
        deterministic_matched += diff.empty();
        if (!run["usable"].get<bool>()) continue;
        ++usable;
        matched += diff.empty();
        if (!diff.empty())
            ADD_FAILURE() << run["prompt"] << " run " << run["spec"].dump() << " prior " << run["prior_name"] << ": " << diff;
    }
    std::printf("usable runs matched: %d / %d; deterministic runs matched: %d / %d\n", matched, usable,
                deterministic_matched, deterministic);
    EXPECT_EQ(usable, 199);
    EXPECT_EQ(matched, usable);
}
