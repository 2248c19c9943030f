#include "vision/preprocess.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"

namespace dimple {

std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels) {
    check(factor > 0, "smart_resize: factor must be positive");
    check(height >= factor && width >= factor, "image of ", width, "x", height, " pixels is too small: both sides must be at least ",
          factor);
    const double ratio = double(std::max(height, width)) / double(std::min(height, width));
    check(ratio <= 200, "image of ", width, "x", height, " pixels has an aspect ratio of ", ratio, ", above the limit of 200");
    // nearbyint rounds half to even in the default rounding mode, like Python's round().
    int64_t h = int64_t(std::nearbyint(double(height) / factor)) * factor;
    int64_t w = int64_t(std::nearbyint(double(width) / factor)) * factor;
    if (h * w > max_pixels) {
        const double beta = std::sqrt(double(int64_t(height) * width) / double(max_pixels));
        h = int64_t(std::floor(height / beta / factor)) * factor;
        w = int64_t(std::floor(width / beta / factor)) * factor;
    } else if (h * w < min_pixels) {
        const double beta = std::sqrt(double(min_pixels) / double(int64_t(height) * width));
        h = int64_t(std::ceil(height * beta / factor)) * factor;
        w = int64_t(std::ceil(width * beta / factor)) * factor;
    }
    // Shrinking a long thin picture under a small max_pixels can round its short side to nothing.
    check(h > 0 && w > 0 && h <= INT32_MAX && w <= INT32_MAX, "image of ", width, "x", height,
          " pixels cannot be fitted to the pixel limits (resized to ", w, "x", h, ")");
    return {int(h), int(w)};
}

PixelValues preprocess_image(const Image& image, const PreprocessorConfig& config) {
    const int patch = config.patch_size, merge = config.merge_size, frames = config.temporal_patch_size;
    check(patch > 0 && merge > 0 && frames > 0, "preprocessor: patch, merge and temporal sizes must be positive");
    const auto [height, width] =
        smart_resize(image.height, image.width, patch * merge, config.min_pixels, config.max_pixels);
    const Image resized = resize_bicubic(image, width, height);

    // A pixel's value depends only on its channel and byte, so all 3 x 256 results are tabulated.
    // Rescale runs in double and rounds once to float (NumPy: uint8 -> float64 * scale -> float32);
    // normalize then runs in float32 against float32 mean and std.
    std::array<std::array<float, 256>, 3> table;
    for (int c = 0; c < 3; ++c) {
        const float mean = float(config.image_mean[size_t(c)]), sd = float(config.image_std[size_t(c)]);
        for (int v = 0; v < 256; ++v) {
            const float x = float(double(v) * config.rescale_factor);
            table[size_t(c)][size_t(v)] = (x - mean) / sd;
        }
    }

    const int64_t grid_h = height / patch, grid_w = width / patch;
    const int64_t row_len = int64_t(3) * frames * patch * patch;
    PixelValues out;
    out.grid = {1, grid_h, grid_w};
    out.values = Tensor::f32({grid_h * grid_w, row_len});
    float* dst = out.values.data<float>();
    // Rows in merge-group order: the merge x merge patches of a group are consecutive.
    for (int64_t gy = 0; gy < grid_h / merge; ++gy)
        for (int64_t gx = 0; gx < grid_w / merge; ++gx)
            for (int my = 0; my < merge; ++my)
                for (int mx = 0; mx < merge; ++mx) {
                    const int64_t y0 = (gy * merge + my) * patch, x0 = (gx * merge + mx) * patch;
                    for (int c = 0; c < 3; ++c)
                        for (int t = 0; t < frames; ++t)  // the one picture, repeated per frame
                            for (int py = 0; py < patch; ++py) {
                                const uint8_t* src = &resized.rgb[size_t(((y0 + py) * width + x0) * 3 + c)];
                                for (int px = 0; px < patch; ++px) *dst++ = table[size_t(c)][src[px * 3]];
                            }
                }
    return out;
}

}  // namespace dimple
