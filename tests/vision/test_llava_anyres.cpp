// LLaDA-V preprocessing and row geometry against the original code's goldens (tests/goldens/
// llada-v-tiny/vision.json, 18 images): best resolution, grid, crops, and the SHA-256 of every
// resize-and-pad canvas, crop and pixel tensor; unpadded and resampled map sizes and row counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <span>

#include "core/error.h"
#include "llava_cases.h"
#include "sha256.h"
#include "testing.h"
#include "vision/anyres.h"
#include "vision/anyres_layout.h"

using namespace dimple;

namespace {

std::string sha(const Image& img) { return dtest::sha256_hex(img.rgb); }

std::pair<int, int> pair_of(const nlohmann::json& j) { return {j[0].get<int>(), j[1].get<int>()}; }

class LlavaCase : public ::testing::TestWithParam<std::string> {
protected:
    const nlohmann::json& golden() const { return dtest::llava_cases().at(GetParam()); }
};

std::string case_name(const ::testing::TestParamInfo<std::string>& p) { return p.param; }

}  // namespace

// Every canvas, crop and pixel tensor bit for bit (SHA-256 of the uint8 HWC / float32 CHW bytes).
TEST_P(LlavaCase, CropsAndPixelsAreBitExact) {
    const LlavaVisionConfig config = dtest::llava_tiny_config();
    const Image image = dtest::llava_case_image(GetParam());
    const nlohmann::json& g = golden();
    EXPECT_EQ(std::make_pair(image.width, image.height), pair_of(g["size_wh"]));
    EXPECT_EQ(select_best_resolution(image.width, image.height, config.grid_pinpoints),
              pair_of(g["best_resolution_wh"]));

    const LlavaCrops crops = llava_crops(image, config);
    EXPECT_EQ(std::make_pair(crops.grid_cols, crops.grid_rows), pair_of(g["grid_cols_rows"]));
    ASSERT_EQ(int(crops.crops.size()), g["n_crops"].get<int>());
    EXPECT_EQ(sha(crops.padded), g["padded_sha256"].get<std::string>());
    const Tensor pixels = siglip_pixel_values(crops.crops);
    const int64_t crop_floats = pixels.numel() / pixels.dim(0);
    for (size_t i = 0; i < crops.crops.size(); ++i) {
        EXPECT_EQ(sha(crops.crops[i]), g["crop_u8_sha256"][i].get<std::string>()) << "crop " << i;
        const auto* bytes = reinterpret_cast<const uint8_t*>(pixels.data<float>() + int64_t(i) * crop_floats);
        EXPECT_EQ(dtest::sha256_hex({bytes, size_t(crop_floats) * sizeof(float)}),
                  g["pixel_f32_sha256"][i].get<std::string>())
            << "pixel values of crop " << i;
    }
}

// What the image's size alone decides: the map before and after unpad_image, the anyres_max
// factor, the resampled size and the row count.
TEST_P(LlavaCase, GeometryMatchesTheOriginal) {
    const LlavaVisionConfig config = dtest::llava_tiny_config();
    const nlohmann::json& g = golden();
    const auto [w, h] = pair_of(g["size_wh"]);
    const AnyresGeometry geo = anyres_geometry(w, h, config);
    EXPECT_EQ(geo.crops, g["n_crops"].get<int>());
    EXPECT_EQ(std::make_pair(geo.map_h, geo.map_w), std::make_pair(g["map_before_unpad_chw"][1].get<int>(),
                                                                   g["map_before_unpad_chw"][2].get<int>()));
    EXPECT_EQ(std::make_pair(geo.unpadded_h, geo.unpadded_w),
              std::make_pair(g["map_after_unpad_chw"][1].get<int>(), g["map_after_unpad_chw"][2].get<int>()));
    EXPECT_EQ(geo.times, g["times"].get<double>());  // the same double, bit for bit
    EXPECT_EQ(geo.resampled, g.contains("interpolated_hw"));
    if (geo.resampled) {
        EXPECT_EQ(std::make_pair(geo.out_h, geo.out_w), pair_of(g["interpolated_hw"]));
    }
    EXPECT_EQ(geo.rows(), g["n_image_rows"].get<int64_t>());
    EXPECT_EQ(llava_image_rows(w, h, config), g["n_image_rows"].get<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Goldens, LlavaCase, ::testing::ValuesIn(dtest::llava_case_names()), case_name);

// The stored rows 0, 16, 32, ... of the three fully recorded cases' crops, as a second witness
// beside the digests.
TEST(LlavaAnyres, CropRowsMatchTheStoredOnes) {
    const LlavaVisionConfig config = dtest::llava_tiny_config();
    for (const char* name : {"photo1", "photo3", "syn1024x768"}) {
        const Tensor want = dtest::llava_golden(std::string(name) + "_crops_u8_every16");  // [crops, 24, 384, 3]
        const LlavaCrops crops = llava_crops(dtest::llava_case_image(name), config);
        ASSERT_EQ(want.dim(0), int64_t(crops.crops.size())) << name;
        const size_t row_bytes = size_t(kLlavaCropSize) * 3;
        for (size_t c = 0; c < crops.crops.size(); ++c)
            for (int64_t r = 0; r < want.dim(1); ++r)
                ASSERT_EQ(0, std::memcmp(&crops.crops[c].rgb[size_t(r) * 16 * row_bytes],
                                         want.data<uint8_t>() + (int64_t(c) * want.dim(1) + r) * int64_t(row_bytes),
                                         row_bytes))
                    << name << " crop " << c << " row " << r * 16;
    }
}

// "_nobase" merges drop the base view's rows, so the base view is not made: the same tiles, one crop
// fewer through the tower.
TEST(LlavaAnyres, NobaseMergesMakeNoBaseView) {
    LlavaVisionConfig config = dtest::llava_tiny_config();
    const Image image = dtest::llava_case_image("syn1024x768");
    const LlavaCrops with = llava_crops(image, config);
    config.base_view = false;
    const LlavaCrops without = llava_crops(image, config);
    ASSERT_EQ(without.crops.size() + 1, with.crops.size());
    for (size_t i = 0; i < without.crops.size(); ++i) EXPECT_EQ(sha(without.crops[i]), sha(with.crops[i + 1])) << i;
    EXPECT_EQ(anyres_geometry(image.width, image.height, config).crops, int(without.crops.size()));
}

TEST(LlavaAnyres, BestResolutionPrefersLessWasteThenTheFirstCandidate) {
    const std::vector<std::pair<int, int>> c = {{768, 384}, {384, 768}, {768, 768}, {1536, 768}};
    // 700x350 fits 768x384 whole (effective 245000) with the least waste.
    EXPECT_EQ(select_best_resolution(700, 350, c), std::make_pair(768, 384));
    // A square keeps 384x384 of itself in both 2:1 candidates: the first one wins the tie... unless
    // a later candidate keeps more (768x768 keeps it all).
    EXPECT_EQ(select_best_resolution(500, 500, std::span(c).first(2)), std::make_pair(768, 384));
    EXPECT_EQ(select_best_resolution(500, 500, c), std::make_pair(768, 768));
    EXPECT_THROW(select_best_resolution(0, 5, c), Error);
}

TEST(LlavaAnyres, PythonFloorDivisionIsNotFloorOfTheQuotient) {
    EXPECT_EQ(python_floordiv(1.0, 0.1), 9.0);  // Python: 1.0 // 0.1 == 9.0, though 1.0 / 0.1 == 10.0
    EXPECT_EQ(python_floordiv(54.0, 1.1626916409142416), 46.0);
    EXPECT_EQ(python_floordiv(7.0, 2.0), 3.0);
    EXPECT_EQ(python_floordiv(-7.0, 2.0), -4.0);
}

TEST(LlavaAnyres, PadModeIsOneGreySquareCropAndOneNewline) {
    LlavaVisionConfig config = dtest::llava_tiny_config();
    config.aspect = AspectMode::Pad;
    Image img = Image::blank(40, 10);
    std::fill(img.rgb.begin(), img.rgb.end(), uint8_t(200));
    const Image square = expand_to_square(img, 127);
    ASSERT_EQ(square.width, 40);
    ASSERT_EQ(square.height, 40);
    EXPECT_EQ(square.rgb[0], 127);                                // above the picture: grey
    EXPECT_EQ(square.rgb[size_t((15 * 40 + 3) * 3)], 200);        // rows 15..24 hold it
    EXPECT_EQ(square.rgb[size_t((25 * 40 + 3) * 3)], 127);
    const LlavaCrops crops = llava_crops(img, config);
    ASSERT_EQ(crops.crops.size(), 1u);
    EXPECT_EQ(crops.crops[0].width, kLlavaCropSize);
    EXPECT_EQ(anyres_geometry(40, 10, config).crops, 1);
    EXPECT_EQ(llava_image_rows(40, 10, config), kLlavaPatches + 1);
}

TEST(LlavaAnyres, BadInputIsAnError) {
    const LlavaVisionConfig config = dtest::llava_tiny_config();
    EXPECT_THROW(anyres_geometry(0, 10, config), Error);
    EXPECT_THROW(llava_crops(Image{}, config), Error);
    EXPECT_THROW(crop_image(Image::blank(10, 10), 5, 5, 6, 1), Error);
    const Image wrong = Image::blank(10, 10);
    EXPECT_THROW(siglip_pixel_values(std::span(&wrong, 1)), Error);
}

// Degenerate sizes (a pixel, a line) still give consistent crops, geometry and rows, as in the original.
TEST(LlavaAnyres, ExtremeSizesStayConsistent) {
    const LlavaVisionConfig config = dtest::llava_tiny_config();
    for (const auto& [w, h] : {std::pair{1, 1}, {3000, 1}, {1, 3000}, {16384, 2}}) {
        const AnyresGeometry geo = anyres_geometry(w, h, config);
        EXPECT_GE(geo.rows(), kLlavaPatches) << w << "x" << h;
        if (w * h <= 3000) {
            EXPECT_EQ(int(llava_crops(Image::blank(w, h), config).crops.size()), geo.crops);
        }
        const Tensor projected = Tensor::f32({geo.crops, kLlavaPatches, 4});
        const Tensor newline = Tensor::from(std::vector<float>{1, 2, 3, 4}, {4});
        const Tensor rows = image_rows(projected, newline, geo);
        EXPECT_EQ(rows.dim(0), geo.rows()) << w << "x" << h;
    }
    const Tensor newline = Tensor::f32({4});
    EXPECT_THROW(image_rows(Tensor::f32({1, kLlavaPatches, 4}), newline, anyres_geometry(640, 480, config)), Error);
}
