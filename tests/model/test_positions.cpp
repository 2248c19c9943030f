#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "io/npy.h"
#include "model/positions.h"
#include "testing.h"

using namespace dimple;

namespace {

constexpr int64_t kImagePad = 2006;

// Checks compute_positions against a golden case P_* of the shared tiny-a set.
void check_case(const std::string& prefix, std::vector<ImageGrid> grids) {
    const std::string g = dtest::golden_dir() + "/" + prefix;
    const Tensor ids = read_npy(g + "_input_ids.npy"), mask = read_npy(g + "_attention_mask.npy");
    const Tensor pos = read_npy(g + "_position_ids.npy"), deltas = read_npy(g + "_rope_deltas.npy");
    const Tensor cos = read_npy(g + "_rope_cos.npy"), sin = read_npy(g + "_rope_sin.npy");
    const int64_t B = ids.dim(0), L = ids.dim(1);
    for (int64_t b = 0; b < B; ++b) {
        std::vector<uint8_t> valid(static_cast<size_t>(L));
        for (int64_t i = 0; i < L; ++i) valid[size_t(i)] = uint8_t(mask.data<int64_t>()[b * L + i]);
        const Positions p = compute_positions({ids.data<int64_t>() + b * L, size_t(L)}, valid, kImagePad,
                                              grids, 2);
        EXPECT_EQ(p.rope_delta, deltas.data<int64_t>()[b]) << prefix << " row " << b;
        for (int64_t i = 0; i < L; ++i)
            for (int a = 0; a < 3; ++a)
                ASSERT_EQ(p.ids[size_t(i)][size_t(a)], pos.data<int64_t>()[(a * B + b) * L + i])
                    << prefix << " row " << b << " token " << i << " axis " << a;
        // The goldens hold cos/sin of each axis' ids over all 16 channels: a table whose sections all
        // take that axis reproduces them.
        for (int a = 0; a < 3; ++a) {
            std::vector<std::array<int64_t, 3>> axis(static_cast<size_t>(L));
            for (int64_t i = 0; i < L; ++i) axis[size_t(i)].fill(p.ids[size_t(i)][size_t(a)]);
            const RopeTable t = rope_table(axis, 16, 1e6, {8, 0, 0});
            for (int64_t i = 0; i < L * 16; ++i) {
                ASSERT_NEAR(t.cos[size_t(i)], cos.data<float>()[(a * B + b) * L * 16 + i], 2e-6);
                ASSERT_NEAR(t.sin[size_t(i)], sin.data<float>()[(a * B + b) * L * 16 + i], 2e-6);
            }
        }
    }
}

}  // namespace

TEST(Positions, MatchGoldenText) {
    DIMPLE_REQUIRE_SHARED();
    check_case("text", {});
}
TEST(Positions, MatchGoldenLeftPaddedBatch) {
    DIMPLE_REQUIRE_SHARED();
    check_case("batch", {});
}
TEST(Positions, MatchGoldenImage) {
    DIMPLE_REQUIRE_SHARED();
    check_case("image", {{1, 8, 12}});
}
TEST(Positions, MatchGoldenTwoImages) {
    DIMPLE_REQUIRE_SHARED();
    check_case("two", {{1, 8, 12}, {1, 10, 14}});
}

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
