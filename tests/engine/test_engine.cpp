// The whole path from raw pixels and prompt ids to answers, on the golden sets with images: the engine
// preprocesses and encodes the image itself, expands the placeholder, and must decode every usable
// image run exactly as the original implementation did.
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/decoding_options.h"
#include "engine/engine.h"
#include "golden_runs.h"
#include "io/npy.h"
#include "golden_inputs.h"
#include "testing.h"

using namespace dimple;
using dtest::ids_from_npy;
using dtest::image_from_npy;

class EngineGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineGoldens, ImagePromptEndToEnd) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const Engine engine(dir + "/model", {Compute::F32, "", 0, {}});
    const ModelConfig& c = engine.config();
    const Tensor golden_ids = read_npy(dir + "/image_input_ids.npy");
    const std::vector<int64_t> golden(golden_ids.data<int64_t>(), golden_ids.data<int64_t>() + golden_ids.numel());

    // The same prompt with one placeholder per image, as the chat template writes it.
    std::vector<int64_t> ids;
    for (int64_t id : golden)
        if (id != c.ids.image || ids.back() != c.ids.image) ids.push_back(id);
    const Prompt p = engine.prompt(ids, {image_from_npy(dir + "/image_raw_uint8_hwc.npy")});
    EXPECT_EQ(p.ids, golden);
    const Tensor hs = read_npy(dir + "/image_hidden_states.npy");  // [0] = input embeddings
    const int64_t per = hs.numel() / hs.dim(0);
    EXPECT_TRUE(dtest::all_close(p.embeddings.reshape({per}), hs.reshape({hs.dim(0), per}).slice_rows(0, 1).reshape({per}),
                                 1e-4, 1e-4));

    const auto gen = dtest::load_generation_runs(dir);
    int usable = 0, matched = 0;
    for (const auto& run : gen["runs"]) {
        if (run["prompt"] != "image" || !run["usable"].get<bool>()) continue;
        ++usable;
        const GenerateResult r = generate(engine.language_model(), p, dtest::golden_run_options(run, gen), {}, true);
        const std::string diff = dtest::golden_run_difference(r, run);
        matched += diff.empty();
        if (!diff.empty()) ADD_FAILURE() << run["spec"].dump() << " prior " << run["prior_name"] << ": " << diff;
    }
    EXPECT_GT(usable, 10);
    EXPECT_EQ(matched, usable);
}

TEST_P(EngineGoldens, TwoImagesGiveTheGoldenLogits) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const Engine engine(dir + "/model", {Compute::F32, "", 0, {4096, 64, 2}});  // planned for two images
    const Tensor golden_ids = read_npy(dir + "/two_input_ids.npy");
    std::vector<int64_t> ids;
    const int64_t pad = engine.config().ids.image;
    for (int64_t i = 0; i < golden_ids.numel(); ++i) {
        const int64_t id = golden_ids.data<int64_t>()[i];
        if (id != pad || ids.back() != pad) ids.push_back(id);
    }
    const Prompt p = engine.prompt(ids, {image_from_npy(dir + "/two_raw0_uint8_hwc.npy"),
                                         image_from_npy(dir + "/two_raw1_uint8_hwc.npy")});
    ASSERT_EQ(int64_t(p.ids.size()), golden_ids.numel());
    ForwardInput in;
    in.batch = 1;
    in.len = int64_t(p.ids.size());
    in.embeddings = p.embeddings;
    in.positions = p.positions.ids;
    const Tensor h = engine.language_model().forward(in);
    std::vector<int64_t> rows(p.ids.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
    const Tensor logits = engine.language_model().logits(h, rows);
    const Tensor golden = read_npy(dir + "/two_logits.npy");
    EXPECT_TRUE(dtest::all_close(logits.reshape(golden.shape()), golden, 1e-3, 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Sets, EngineGoldens, ::testing::ValuesIn(dtest::image_golden_sets()),
                         dtest::GoldenSetName());

TEST(Engine, PlaceholderCountMustMatchImages) {
    const Engine engine(dtest::golden_dir() + "/model", {Compute::F32, "", 0, {}});
    const int64_t pad = engine.config().ids.image;
    EXPECT_THROW(engine.prompt({5, pad, 6}, {}), Error);
    EXPECT_THROW(engine.prompt({5, 6}, {image_from_npy(dtest::golden_dir() + "/image_raw_uint8_hwc.npy")}), Error);
    EXPECT_THROW(engine.prompt({5, 99999}, {}), Error);  // outside the vocabulary
}

// The engine runs no request larger than its memory plan was made for.
TEST(Engine, RefusesPromptsBeyondItsLimits) {
    const Engine engine(dtest::golden_dir() + "/model", {Compute::F32, "", 0, {8, 4, 1}});
    const int64_t pad = engine.config().ids.image;
    const Image image = image_from_npy(dtest::golden_dir() + "/image_raw_uint8_hwc.npy");
    EXPECT_NO_THROW(engine.prompt({1, 2, 3, 4, 5, 6, 7, 8}, {}));
    EXPECT_THROW(engine.prompt({1, 2, 3, 4, 5, 6, 7, 8, 9}, {}), Error);
    EXPECT_THROW(engine.prompt({5, pad, 6}, {image}), Error);  // the image's tokens make it too long
    const Engine two(dtest::golden_dir() + "/model", {Compute::F32, "", 0, {4096, 4, 1}});
    EXPECT_NO_THROW(two.prompt({5, pad, 6}, {image}));
    EXPECT_THROW(two.prompt({5, pad, 6, pad, 7}, {image, image}), Error);  // one image planned
}

// --speed: the family's preset in place of the faster-decoding options, which the options set
// alongside it change; a family without presets says so.
TEST(Engine, SpeedPresetsAndTheOptionsThatChangeThem) {
    const Engine engine(dtest::golden_dir() + "/model", {Compute::F32, "", 0, {}});
    DecodingOptions o;
    const GenerateOptions exact = generate_options(o, engine);
    EXPECT_EQ(exact.accel.block_length, 0);
    EXPECT_FALSE(exact.accel.prunes());
    o.speed = "fast";
    const GenerateOptions fast = generate_options(o, engine);
    EXPECT_EQ(fast.accel.early_stop, EarlyStop::Loop);
    EXPECT_EQ(fast.accel.block_length, 16);
    EXPECT_TRUE(fast.accel.dual_cache);
    EXPECT_TRUE(fast.use_cache);
    o.speed = "faster";
    o.prune_keep = 0.5f;
    o.block_length = 8;
    const GenerateOptions faster = generate_options(o, engine);
    EXPECT_EQ(faster.accel.prune_layer, 1);
    EXPECT_EQ(faster.accel.prune_keep, 0.5f);
    EXPECT_EQ(faster.accel.block_length, 8);
    EXPECT_TRUE(faster.accel.dual_cache);
    o.speed = "fastest";
    EXPECT_THROW(generate_options(o, engine), Error);
    EXPECT_TRUE(model_family(engine.config(), nullptr).speeds.count(Speed::Faster));
}
