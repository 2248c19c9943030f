#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <vector>

#include "core/error.h"
#include "io/npy.h"
#include "testing.h"
#include "vision/windows.h"

using namespace dimple;

namespace {

std::vector<ImageGrid> golden_grids(const std::string& prefix) {
    const Tensor g = read_npy(dtest::golden_dir() + "/" + prefix + "_grid_thw.npy");
    std::vector<ImageGrid> out;
    for (int64_t i = 0; i < g.dim(0); ++i) {
        const int64_t* r = g.data<int64_t>() + i * 3;
        out.push_back({r[0], r[1], r[2]});
    }
    return out;
}

Tensor i64(const std::vector<int64_t>& v) {
    Tensor t(DType::I64, {int64_t(v.size())});
    std::memcpy(t.raw(), v.data(), v.size() * sizeof(int64_t));
    return t;
}

Tensor golden(const std::string& name) { return read_npy(dtest::golden_dir() + "/" + name + ".npy"); }

}  // namespace

TEST(VisionWindows, InverseFrequenciesRoundLikeTorch) {
    const std::vector<float> f16 = vision_rotary_inv_freq(16);
    EXPECT_EQ(f16, (std::vector<float>{1.0f, 0.1f, 0.01f, 0.001f}));
    // torch 1.13 (float32 `1 / 10000 ** (arange(0, 40, 2) / 40)`) gives 0x3b8273a4 here, where a
    // float powf would give the next float up: the power is evaluated in double and rounded once.
    const std::vector<float> f80 = vision_rotary_inv_freq(80);
    ASSERT_EQ(f80.size(), 20u);
    EXPECT_EQ(std::bit_cast<uint32_t>(f80[12]), 0x3b8273a4u);
    EXPECT_EQ(std::bit_cast<uint32_t>(vision_rotary_inv_freq(128)[5]), 0x3e72d423u);
    EXPECT_THROW(vision_rotary_inv_freq(18), Error);
}

TEST(VisionWindows, AnglesFollowTheProcessorPatchOrder) {
    // A 4x6 patch grid: rows of the pixel_values run over (h/2, w/2, 2, 2).
    const ImageGrid g{1, 4, 6};
    const Tensor a = vision_rotary_angles({&g, 1}, 2, 8);  // 2 frequencies: 1 and 0.01
    ASSERT_EQ(a.shape(), (Shape{24, 4}));
    auto rc = [&](int64_t p) { return std::pair<float, float>(a.row(p)[0], a.row(p)[2]); };
    EXPECT_EQ(rc(0), (std::pair<float, float>(0, 0)));
    EXPECT_EQ(rc(1), (std::pair<float, float>(0, 1)));
    EXPECT_EQ(rc(2), (std::pair<float, float>(1, 0)));
    EXPECT_EQ(rc(3), (std::pair<float, float>(1, 1)));
    EXPECT_EQ(rc(4), (std::pair<float, float>(0, 2)));   // next merge unit to the right
    EXPECT_EQ(rc(12), (std::pair<float, float>(2, 0)));  // first unit of the second unit row
    EXPECT_EQ(rc(23), (std::pair<float, float>(3, 5)));
    EXPECT_EQ(a.row(23)[1], 3 * 0.01f);
    EXPECT_EQ(a.row(23)[3], 5 * 0.01f);
}

TEST(VisionWindows, LayoutOfOneImageWithPaddingWindows) {
    // 4x6 merge units: windows of 4x4 units give a 16-unit and an 8-unit window; the exact
    // multiple of 4 rows adds a padded (empty) window row, two repeated boundaries.
    const ImageGrid g{1, 8, 12};
    const WindowLayout L = vision_window_layout({&g, 1}, 2, 4);
    EXPECT_EQ(L.window_index, (std::vector<int64_t>{0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19,
                                                    20, 21, 4, 5, 10, 11, 16, 17, 22, 23}));
    EXPECT_EQ(L.cu_window_seqlens_raw, (std::vector<int64_t>{0, 64, 96, 96, 96}));
    EXPECT_EQ(L.cu_window_seqlens, (std::vector<int64_t>{0, 64, 96}));
    EXPECT_EQ(L.cu_seqlens, (std::vector<int64_t>{0, 96}));
}

TEST(VisionWindows, WindowsStayInsideTheirImageAndFrame) {
    const std::vector<ImageGrid> grids{{1, 26, 38}, {2, 10, 14}, {1, 2, 2}, {1, 16, 16}};
    const WindowLayout L = vision_window_layout(grids, 2, 4);
    const int64_t units = vision_patch_count(grids, 2) / 4;
    ASSERT_EQ(int64_t(L.window_index.size()), units);
    EXPECT_EQ(std::set<int64_t>(L.window_index.begin(), L.window_index.end()).size(), size_t(units));
    EXPECT_EQ(L.cu_seqlens, (std::vector<int64_t>{0, 988, 1128, 1268, 1272, 1528}));
    // Every window lies within one frame's segment, spans at most 4x4 units, and the frames'
    // boundaries are window boundaries.
    std::vector<int64_t> frame_of(L.window_index.size()), row_of(frame_of), col_of(frame_of);
    int64_t u = 0, f = 0;
    for (const ImageGrid& g : grids)
        for (int64_t t = 0; t < g.t; ++t, ++f)
            for (int64_t r = 0; r < g.h / 2; ++r)
                for (int64_t c = 0; c < g.w / 2; ++c, ++u)
                    frame_of[size_t(u)] = f, row_of[size_t(u)] = r, col_of[size_t(u)] = c;
    for (size_t w = 0; w + 1 < L.cu_window_seqlens.size(); ++w) {
        const int64_t b = L.cu_window_seqlens[w] / 4, e = L.cu_window_seqlens[w + 1] / 4;
        ASSERT_LT(b, e);
        ASSERT_EQ(L.cu_window_seqlens[w] % 4, 0);
        std::set<int64_t> frames, wr, wc;
        for (int64_t i = b; i < e; ++i) {
            const size_t unit = size_t(L.window_index[size_t(i)]);
            frames.insert(frame_of[unit]);
            wr.insert(row_of[unit] / 4);
            wc.insert(col_of[unit] / 4);
        }
        EXPECT_EQ(frames.size(), 1u);
        EXPECT_EQ(wr.size(), 1u);
        EXPECT_EQ(wc.size(), 1u);
    }
    for (int64_t c : L.cu_seqlens)
        EXPECT_TRUE(std::binary_search(L.cu_window_seqlens.begin(), L.cu_window_seqlens.end(), c)) << c;
    // (1,16,16): 8x8 units, both sides exact multiples: 4 real windows + 5 padded ones at the end.
    const ImageGrid sq{1, 16, 16};
    const WindowLayout S = vision_window_layout({&sq, 1}, 2, 4);
    EXPECT_EQ(S.cu_window_seqlens_raw,
              (std::vector<int64_t>{0, 64, 128, 128, 192, 256, 256, 256, 256, 256}));
    EXPECT_EQ(S.cu_window_seqlens, (std::vector<int64_t>{0, 64, 128, 192, 256}));
}

TEST(VisionWindows, InvertPermutation) {
    const std::vector<int64_t> p{3, 0, 4, 1, 2};
    const std::vector<int64_t> inv = invert_permutation(p);
    for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(inv[size_t(p[i])], int64_t(i));
    EXPECT_THROW(invert_permutation(std::vector<int64_t>{0, 0, 1}), Error);
    EXPECT_THROW(invert_permutation(std::vector<int64_t>{0, 3}), Error);
}

TEST(VisionWindows, RejectsGridsTheMergeCannotSplit) {
    const ImageGrid odd{1, 7, 8}, empty{0, 8, 8};
    EXPECT_THROW(vision_patch_count({&odd, 1}, 2), Error);
    EXPECT_THROW(vision_window_layout({&empty, 1}, 2, 4), Error);
}

class VisionWindowsGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionWindowsGolden, MatchExactly) {
    const std::string p = GetParam();
    const std::vector<ImageGrid> grids = golden_grids(p);
    const WindowLayout L = vision_window_layout(grids, 2, 4);
    EXPECT_TRUE(dtest::all_equal(i64(L.window_index), golden(p + "_vis_window_index")));
    EXPECT_TRUE(dtest::all_equal(i64(L.cu_window_seqlens_raw), golden(p + "_vis_cu_window_seqlens_raw")));
    EXPECT_TRUE(dtest::all_equal(i64(L.cu_window_seqlens), golden(p + "_vis_cu_window_seqlens")));
    EXPECT_TRUE(dtest::all_equal(i64(L.cu_seqlens), golden(p + "_vis_cu_seqlens")));
    // Angles are products of small integers and f32 frequencies: bit for bit.
    EXPECT_TRUE(dtest::all_equal(vision_rotary_angles(grids, 2, 16), golden(p + "_vis_rot_pos_emb")));
}

INSTANTIATE_TEST_SUITE_P(TinyA, VisionWindowsGolden, ::testing::Values("image", "two"));
