// Preprocessing parity. smart_resize against values computed by the original Python; the tiny-a
// goldens (resized photos and pixel values, bit for bit); and fresh pictures of every format and
// many shapes against PIL 9.4 itself, through tools/pil_preprocess.py. Every comparison is exact.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "core/error.h"
#include "io/config.h"
#include "io/npy.h"
#include "testing.h"
#include "vision/image.h"
#include "vision/preprocess.h"

using namespace dimple;

namespace {

Image image_from(const Tensor& hwc) {
    EXPECT_EQ(hwc.dtype(), DType::U8);
    EXPECT_EQ(hwc.ndim(), 3);
    EXPECT_EQ(hwc.dim(2), 3);
    Image img;
    img.height = int(hwc.dim(0));
    img.width = int(hwc.dim(1));
    const auto* p = hwc.data<uint8_t>();
    img.rgb.assign(p, p + hwc.numel());
    return img;
}

// Exact equality of a picture with a (H, W, 3) uint8 reference; on failure, how many bytes differ
// and by how many levels at most.
::testing::AssertionResult same_pixels(const Image& got, const Tensor& want) {
    if (want.dtype() != DType::U8 || want.ndim() != 3 || want.dim(0) != got.height || want.dim(1) != got.width ||
        want.dim(2) != 3)
        return ::testing::AssertionFailure() << "got " << got.width << "x" << got.height << ", want shape "
                                             << shape_str(want.shape());
    const uint8_t* w = want.data<uint8_t>();
    size_t differing = 0;
    int worst = 0;
    for (size_t i = 0; i < got.rgb.size(); ++i)
        if (got.rgb[i] != w[i]) ++differing, worst = std::max(worst, std::abs(int(got.rgb[i]) - int(w[i])));
    if (differing == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << differing << " of " << got.rgb.size() << " bytes differ, by up to "
                                         << worst << " levels";
}

::testing::AssertionResult same_grid(const ImageGrid& g, const Tensor& want) {
    if (want.numel() != 3) return ::testing::AssertionFailure() << "grid reference " << shape_str(want.shape());
    const int64_t* w = want.data<int64_t>();
    if (g.t == w[0] && g.h == w[1] && g.w == w[2]) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "grid (" << g.t << "," << g.h << "," << g.w << ") vs (" << w[0] << ","
                                         << w[1] << "," << w[2] << ")";
}

Image resize_for_model(const Image& img, const PreprocessorConfig& c) {
    const auto [h, w] = smart_resize(img.height, img.width, c.patch_size * c.merge_size, c.min_pixels, c.max_pixels);
    return resize_bicubic(img, w, h);
}

// The settings tools/pil_preprocess.py uses by default (those of tiny-a).
PreprocessorConfig fixture_config() {
    PreprocessorConfig c;
    c.min_pixels = 3136;
    c.max_pixels = 200704;
    return c;
}

// tools/pil_preprocess.py's pictures and references, made once per process.
struct PilFixtures {
    std::string dir;          // empty when unavailable
    std::string why_not;
    bool script_failed = false;
    std::vector<std::string> lines;  // the manifest

    // The file names of the manifest's entries of one kind ("image", "unsupported", ...).
    std::vector<std::string> names(const std::string& kind) const {
        std::vector<std::string> out;
        for (const std::string& line : lines) {
            std::istringstream in(line);
            std::string k, name;
            in >> k >> name;
            if (k == kind) out.push_back(name);
        }
        return out;
    }
};

const PilFixtures& pil_fixtures() {
    static const PilFixtures fixtures = [] {
        PilFixtures f;
        const std::string dir = dtest::temp_dir();
        const std::string cmd = "/usr/bin/python3 " DIMPLE_VISION_SOURCE_DIR "/tools/pil_preprocess.py fixtures " + dir;
        const int status = std::system(cmd.c_str());
        // 77: the script found no PIL 9.4 or NumPy; 127: the shell found no /usr/bin/python3.
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 127)) {
            f.why_not = "/usr/bin/python3 with PIL 9.4 and NumPy is not available: PIL parity tests skipped";
            return f;
        }
        if (status != 0) {
            f.why_not = "tools/pil_preprocess.py failed: " + cmd;
            f.script_failed = true;
            return f;
        }
        std::ifstream manifest(dir + "/manifest.txt");
        for (std::string line; std::getline(manifest, line);)
            if (!line.empty()) f.lines.push_back(line);
        f.dir = dir;
        return f;
    }();
    return fixtures;
}

bool on_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

}  // namespace

// Without PIL the parity tests skip locally, but CI must have it: there they fail instead.
#define REQUIRE_PIL(fx)                                                      \
    const PilFixtures& fx = pil_fixtures();                                  \
    do {                                                                     \
        if (fx.dir.empty()) {                                                \
            if (fx.script_failed || on_ci()) FAIL() << fx.why_not;           \
            GTEST_SKIP() << fx.why_not;                                      \
        }                                                                    \
    } while (0)

TEST(SmartResize, MatchesTheOriginal) {
    const struct {
        int h, w;
        int64_t min_pixels, max_pixels;
        int want_h, want_w;
    } cases[] = {
        {360, 360, 3136, 200704, 364, 364},     {360, 541, 3136, 200704, 364, 532},  // quirk P1
        {28, 28, 3136, 200704, 56, 56},         {42, 100, 3136, 200704, 56, 112},    // 1.5 rounds to 2
        {70, 70, 3136, 200704, 56, 56},         {98, 98, 3136, 200704, 112, 112},    // 2.5 to 2, 3.5 to 4
        {1000, 1000, 3136, 200704, 448, 448},   {1080, 1920, 3136, 1003520, 728, 1316},
        {4000, 3000, 3136, 1003520, 1148, 840}, {28, 5600, 3136, 200704, 28, 5600},
        {5600, 28, 3136, 200704, 5600, 28},     {29, 300, 3136, 200704, 28, 308},
        {33, 1000, 3136, 200704, 28, 1008},     {50, 40, 3136, 200704, 84, 56},
    };
    for (const auto& c : cases) {
        const auto [h, w] = smart_resize(c.h, c.w, 28, c.min_pixels, c.max_pixels);
        EXPECT_EQ(h, c.want_h) << c.h << "x" << c.w;
        EXPECT_EQ(w, c.want_w) << c.h << "x" << c.w;
    }
    EXPECT_THROW(smart_resize(27, 100, 28, 3136, 200704), Error);
    EXPECT_THROW(smart_resize(100, 27, 28, 3136, 200704), Error);
    EXPECT_THROW(smart_resize(28, 5601, 28, 3136, 200704), Error);  // aspect ratio just over 200
    EXPECT_THROW(smart_resize(28, 5600, 28, 3136, 3136), Error);    // the short side rounds to 0
}

TEST(Resize, SameSizeIsACopyAndShapesAreChecked) {
    Image img;
    img.width = 3, img.height = 2;
    img.rgb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    EXPECT_EQ(resize_bicubic(img, 3, 2).rgb, img.rgb);
    EXPECT_THROW(resize_bicubic(img, 0, 2), Error);
    img.rgb.pop_back();
    EXPECT_THROW(resize_bicubic(img, 4, 4), Error);
}

TEST(Goldens, PhotosResizeAndPixelValues) {
    const std::string g = dtest::golden_dir();
    const PreprocessorConfig config = load_preprocessor_config(g + "/model");
    for (const char* n : {"3", "1"}) {
        SCOPED_TRACE(std::string("photo") + n);
        const Image photo = load_image(dtest::images_dir() + "/" + n + "_resize.jpg");
        EXPECT_TRUE(same_pixels(resize_for_model(photo, config), read_npy(g + "/photo" + n + "_resized_uint8_hwc.npy")));
        const PixelValues pv = preprocess_image(photo, config);
        // The repository keeps every 8th of the original's rows (tools/import_shared_goldens.sh).
        const Tensor want = read_npy(g + "/photo" + n + "_pixel_values_every8.npy");
        ASSERT_EQ(want.dim(0), (pv.values.dim(0) + 7) / 8);
        Tensor got = Tensor::f32({want.dim(0), pv.values.dim(1)});
        for (int64_t r = 0; r < want.dim(0); ++r)
            std::memcpy(got.row(r), pv.values.row(8 * r), size_t(pv.values.dim(1)) * sizeof(float));
        EXPECT_TRUE(dtest::all_equal(got, want));
        EXPECT_TRUE(same_grid(pv.grid, read_npy(g + "/photo" + n + "_grid_thw.npy")));
    }
}

TEST(Goldens, RawPicturesPixelValues) {
    const std::string g = dtest::golden_dir();
    const PreprocessorConfig config = load_preprocessor_config(g + "/model");
    const PixelValues one = preprocess_image(image_from(read_npy(g + "/image_raw_uint8_hwc.npy")), config);
    EXPECT_TRUE(dtest::all_equal(one.values, read_npy(g + "/image_pixel_values.npy")));
    EXPECT_TRUE(same_grid(one.grid, read_npy(g + "/image_grid_thw.npy")));

    // `two` holds image A's rows, then image B's.
    const PixelValues a = preprocess_image(image_from(read_npy(g + "/two_raw0_uint8_hwc.npy")), config);
    const PixelValues b = preprocess_image(image_from(read_npy(g + "/two_raw1_uint8_hwc.npy")), config);
    Tensor both = Tensor::f32({a.values.dim(0) + b.values.dim(0), a.values.dim(1)});
    std::memcpy(both.data<float>(), a.values.data<float>(), a.values.nbytes());
    std::memcpy(both.row(a.values.dim(0)), b.values.data<float>(), b.values.nbytes());
    EXPECT_TRUE(dtest::all_equal(both, read_npy(g + "/two_pixel_values.npy")));
    const Tensor grids = read_npy(g + "/two_grid_thw.npy");
    EXPECT_TRUE(same_grid(a.grid, grids.slice_rows(0, 1)));
    EXPECT_TRUE(same_grid(b.grid, grids.slice_rows(1, 2)));
}

TEST(PilParity, DecodesLikePil) {
    REQUIRE_PIL(fx);
    int n = 0;
    for (const std::string& name : fx.names("image")) {
        const std::string path = fx.dir + "/" + name;
        EXPECT_TRUE(same_pixels(load_image(path), read_npy(path + ".rgb.npy"))) << name;
        ++n;
    }
    EXPECT_GE(n, 30);
}

TEST(PilParity, ResizesLikePil) {
    REQUIRE_PIL(fx);
    const PreprocessorConfig config = fixture_config();
    int n = 0;
    for (const std::string& line : fx.lines) {
        std::istringstream in(line);
        std::string kind, name;
        int width = 0, height = 0;
        in >> kind >> name >> width >> height;
        const std::string path = fx.dir + "/" + name;
        if (kind == "image") {
            // From PIL's own decode, so that this isolates the resampler.
            const Image decoded = image_from(read_npy(path + ".rgb.npy"));
            EXPECT_TRUE(same_pixels(resize_for_model(decoded, config), read_npy(path + ".resized.npy"))) << name;
        } else if (kind == "resize") {
            const Image src = image_from(read_npy(path + ".src.npy"));
            EXPECT_TRUE(same_pixels(resize_bicubic(src, width, height), read_npy(path + ".out.npy")))
                << name << ": " << src.width << "x" << src.height << " to " << width << "x" << height;
        }
        ++n;
    }
    EXPECT_GE(n, 38);
}

TEST(PilParity, PixelValuesLikePil) {
    REQUIRE_PIL(fx);
    const PreprocessorConfig config = fixture_config();
    for (const std::string& name : fx.names("image")) {
        const std::string path = fx.dir + "/" + name;
        const PixelValues pv = preprocess_image(load_image(path), config);
        EXPECT_TRUE(dtest::all_equal(pv.values, read_npy(path + ".pixels.npy"))) << name;
        EXPECT_TRUE(same_grid(pv.grid, read_npy(path + ".grid.npy"))) << name;
    }
}

// Files PIL reads but the engine deliberately does not (animated WebP, RLE BMP): a clear error.
TEST(PilParity, RefusesWhatItDoesNotSupport) {
    REQUIRE_PIL(fx);
    int n = 0;
    for (const std::string& name : fx.names("unsupported")) {
        try {
            load_image(fx.dir + "/" + name);
            ADD_FAILURE() << name << " decoded";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
        }
        ++n;
    }
    EXPECT_EQ(n, 2);
}
