#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "golden_runs.h"
#include "io/npy.h"
#include "model/positions.h"
#include "testing.h"

using namespace dimple;

class PositionGoldens : public ::testing::TestWithParam<std::string> {};

// M-RoPE ids, rope deltas and the cos/sin tables of every forward case of every golden set.
TEST_P(PositionGoldens, MatchEveryForwardCase) {
    DIMPLE_GOLDEN_SET_DIR(dir, GetParam());
    const ModelConfig cfg = load_model_config(dir + "/model");
    const int64_t D = cfg.head_dim();
    for (const std::string& prefix : dtest::golden_cases(dir)) {
        const std::string g = dir + "/" + prefix;
        const Tensor ids = read_npy(g + "_input_ids.npy"), mask = read_npy(g + "_attention_mask.npy");
        const Tensor pos = read_npy(g + "_position_ids.npy"), deltas = read_npy(g + "_rope_deltas.npy");
        const Tensor cos = read_npy(g + "_rope_cos.npy"), sin = read_npy(g + "_rope_sin.npy");
        const std::vector<ImageGrid> grids = dtest::golden_grids(dir, prefix);
        const int64_t B = ids.dim(0), L = ids.dim(1);
        for (int64_t b = 0; b < B; ++b) {
            std::vector<uint8_t> valid(static_cast<size_t>(L));
            for (int64_t i = 0; i < L; ++i) valid[size_t(i)] = uint8_t(mask.data<int64_t>()[b * L + i]);
            const Positions p = compute_positions({ids.data<int64_t>() + b * L, size_t(L)}, valid, cfg.ids.image, grids, 2);
            EXPECT_EQ(p.rope_delta, deltas.data<int64_t>()[b]) << prefix << " row " << b;
            for (int64_t i = 0; i < L; ++i)
                for (int a = 0; a < 3; ++a)
                    ASSERT_EQ(p.ids[size_t(i)][size_t(a)], pos.data<int64_t>()[(a * B + b) * L + i])
                        << prefix << " row " << b << " token " << i << " axis " << a;
            // The goldens hold cos/sin of each axis' ids over all channels: a table whose
            // sections all take that axis reproduces them.
            for (int a = 0; a < 3; ++a) {
                std::vector<std::array<int64_t, 3>> axis(static_cast<size_t>(L));
                for (int64_t i = 0; i < L; ++i) axis[size_t(i)].fill(p.ids[size_t(i)][size_t(a)]);
                const RopeTable t = rope_table(axis, D, cfg.rope_theta, {int(D / 2), 0, 0});
                for (int64_t i = 0; i < L * D; ++i) {
                    ASSERT_NEAR(t.cos[size_t(i)], cos.data<float>()[(a * B + b) * L * D + i], 2e-6) << prefix;
                    ASSERT_NEAR(t.sin[size_t(i)], sin.data<float>()[(a * B + b) * L * D + i], 2e-6) << prefix;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Sets, PositionGoldens, ::testing::ValuesIn(dtest::golden_sets()),
                         dtest::GoldenSetName());

TEST(Positions, ImageContinuesFromMaximum) {
    // 2 text tokens, a 2x3 merged image (grid 1x4x6), 1 text token.
    const std::vector<int64_t> ids = {5, 6, 9, 9, 9, 9, 9, 9, 7};
    const ImageGrid g{1, 4, 6};
    const Positions p = compute_positions(ids, {}, 9, {&g, 1}, 2);
    EXPECT_EQ(p.ids[2], (std::array<int64_t, 3>{2, 2, 2}));
    EXPECT_EQ(p.ids[7], (std::array<int64_t, 3>{2, 3, 4}));
    EXPECT_EQ(p.ids[8], (std::array<int64_t, 3>{5, 5, 5}));
    EXPECT_EQ(p.rope_delta, 6 - 9);
}

TEST(Positions, ImageCountMismatchIsAnError) {
    const std::vector<int64_t> ids = {5, 9, 9, 7};
    const ImageGrid g{1, 4, 6};
    EXPECT_THROW(compute_positions(ids, {}, 9, {&g, 1}, 2), Error);
    EXPECT_THROW(compute_positions(ids, {}, 9, {}, 2), Error);
}

TEST(Positions, SectionsPickAxes) {
    const std::vector<std::array<int64_t, 3>> ids = {{3, 5, 7}};
    const RopeTable t = rope_table(ids, 16, 1e6, {2, 3, 3});
    // Frequency 0 follows t, 2 follows h, 5 follows w; the second half mirrors the first.
    EXPECT_FLOAT_EQ(t.cos[0], std::cos(3.0f));
    EXPECT_FLOAT_EQ(t.cos[8], std::cos(3.0f));
    const float f2 = 1.0f / std::pow(1e6f, 4.0f / 16.0f), f5 = 1.0f / std::pow(1e6f, 10.0f / 16.0f);
    EXPECT_NEAR(t.sin[2], std::sin(5.0f * f2), 1e-7);
    EXPECT_NEAR(t.sin[5], std::sin(7.0f * f5), 1e-7);
}
