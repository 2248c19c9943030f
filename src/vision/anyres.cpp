#include "vision/anyres.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "vision/resize.h"

namespace dimple {

namespace {

// Image.paste of `src` onto `dst` at (x, y); the source lies inside the destination.
void paste(const Image& src, Image& dst, int x, int y) {
    const size_t row_bytes = size_t(src.width) * 3;
    for (int r = 0; r < src.height; ++r)
        std::memcpy(&dst.rgb[(size_t(y + r) * size_t(dst.width) + size_t(x)) * 3], &src.rgb[size_t(r) * row_bytes],
                    row_bytes);
}

Image filled(int width, int height, uint8_t value) {
    Image img = Image::blank(width, height);
    std::fill(img.rgb.begin(), img.rgb.end(), value);
    return img;
}

}  // namespace

std::pair<int, int> select_best_resolution(int width, int height, std::span<const std::pair<int, int>> candidates) {
    check(width > 0 && height > 0, "select_best_resolution: empty image (", width, "x", height, ")");
    check(!candidates.empty(), "select_best_resolution: no candidate resolution");
    std::pair<int, int> best = candidates.front();
    int64_t best_effective = 0;
    double best_wasted = std::numeric_limits<double>::infinity();
    const int64_t area = int64_t(width) * height;
    for (const auto& [w, h] : candidates) {
        const double scale = std::min(double(w) / width, double(h) / height);
        const int64_t dw = int64_t(width * scale), dh = int64_t(height * scale);  // int() truncates
        const int64_t effective = std::min(dw * dh, area);
        const double wasted = double(int64_t(w) * h - effective);
        if (effective > best_effective || (effective == best_effective && wasted < best_wasted)) {
            best_effective = effective;
            best_wasted = wasted;
            best = {w, h};
        }
    }
    return best;
}

Image crop_image(const Image& image, int x, int y, int w, int h) {
    check(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= image.width && y + h <= image.height, "crop (", x, ", ",
          y, ") ", w, "x", h, " does not lie inside the ", image.width, "x", image.height, " image");
    Image out = Image::blank(w, h);
    for (int r = 0; r < h; ++r)
        std::memcpy(&out.rgb[size_t(r) * size_t(w) * 3], &image.rgb[(size_t(y + r) * size_t(image.width) + size_t(x)) * 3],
                    size_t(w) * 3);
    return out;
}

Image resize_and_pad(const Image& image, int target_w, int target_h) {
    const double scale_w = double(target_w) / image.width, scale_h = double(target_h) / image.height;
    int new_w = target_w, new_h = target_h;
    if (scale_w < scale_h)
        new_h = std::min(int(std::ceil(image.height * scale_w)), target_h);
    else
        new_w = std::min(int(std::ceil(image.width * scale_h)), target_w);
    Image canvas = Image::blank(target_w, target_h);  // black
    paste(resize_bicubic(image, new_w, new_h), canvas, (target_w - new_w) / 2, (target_h - new_h) / 2);
    return canvas;
}

Image expand_to_square(const Image& image, uint8_t fill) {
    if (image.width == image.height) return image;
    const int side = std::max(image.width, image.height);
    Image square = filled(side, side, fill);
    paste(image, square, (side - image.width) / 2, (side - image.height) / 2);
    return square;
}

LlavaCrops llava_crops(const Image& image, const LlavaVisionConfig& config) {
    check(image.width > 0 && image.height > 0, "LLaDA-V image preprocessing: empty image");
    constexpr int S = kLlavaCropSize;
    LlavaCrops out;
    if (config.aspect == AspectMode::Pad) {
        // The grey of expand2square is int(0.5 * 255) = 127: the processor's mean in bytes.
        out.crops.push_back(resize_bicubic(expand_to_square(image, 127), S, S));
        return out;
    }
    const auto [w, h] = select_best_resolution(image.width, image.height, config.grid_pinpoints);
    out.grid_cols = w / S;
    out.grid_rows = h / S;
    out.padded = resize_and_pad(image, w, h);
    // The base view squashes the whole original to the crop size (the original's FIXME keeps it so).
    // A "_nobase" merge drops its rows, so it is not made (the tower would encode it for nothing).
    if (config.base_view) out.crops.push_back(resize_bicubic(image, S, S));
    for (int r = 0; r < out.grid_rows; ++r)
        for (int c = 0; c < out.grid_cols; ++c) out.crops.push_back(crop_image(out.padded, c * S, r * S, S, S));
    return out;
}

Tensor siglip_pixel_values(std::span<const Image> crops) {
    constexpr int S = kLlavaCropSize;
    // transformers rescales uint8 by 1/255 in float64 and stores float32, then normalizes with
    // float32 mean and std 0.5: a value depends on its byte alone, so all 256 are tabulated.
    std::array<float, 256> table;
    for (int v = 0; v < 256; ++v) table[size_t(v)] = (float(double(v) * (1.0 / 255.0)) - 0.5f) / 0.5f;
    Tensor out = Tensor::f32({int64_t(crops.size()), 3, S, S});
    float* dst = out.data<float>();
    for (const Image& crop : crops) {
        check(crop.width == S && crop.height == S, "SigLIP pixel values: a crop is ", crop.width, "x", crop.height,
              ", not ", S, "x", S);
        for (int c = 0; c < 3; ++c)
            for (size_t i = 0; i < size_t(S) * S; ++i) *dst++ = table[crop.rgb[i * 3 + size_t(c)]];
    }
    return out;
}

}  // namespace dimple
