// From the projected rows of an image's crops to the rows the language model reads in place of
// its <image> (LLaDA-V's prepare_inputs_labels_for_multimodal, spec llada.md section 4): the base
// view's 729 rows, then the tiles laid out as one feature map, unpadded, shrunk to about
// anyres_max_N tiles, with image_newline after every map row ("spatial_unpad", LLaDA-V's). The
// other merges of that code: the map max-pooled 2x2 ("spatial_maxpool2x2") or as it is ("spatial"),
// each without the base view when "_nobase". "pad" mode: one crop (+ one newline with unpad).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "io/llava_config.h"

namespace dimple {

// Everything about an image's rows that its size alone decides (no pixel is needed): the prompt
// builder and the memory plan count rows with it before any tower runs.
struct AnyresGeometry {
    int crops = 1;                     // base (unless "_nobase") + tiles ("pad": 1)
    int grid_cols = 0, grid_rows = 0;  // tiles; 0 in "pad" mode
    int map_h = 0, map_w = 0;          // the tiles' feature map: grid_rows*27 x grid_cols*27
    int top = 0, left = 0;             // unpad_image's kept window of the map...
    int unpadded_h = 0, unpadded_w = 0;
    double times = 0;                  // ...its size against anyres_max_N tiles
    int out_h = 0, out_w = 0;          // the map after the downscale (the unpadded size when none)
    bool resampled = false;            // times > 1.1: bilinearly downscaled
    TileMerge merge = TileMerge::Unpad;
    bool base_view = true;

    int64_t rows() const;  // unpad: 729 + out_h * (out_w + 1); "pad": 730
};

AnyresGeometry anyres_geometry(int width, int height, const LlavaVisionConfig& config);
inline int64_t llava_image_rows(int width, int height, const LlavaVisionConfig& config) {
    return anyres_geometry(width, height, config).rows();
}

// Intermediates of image_rows(), for tests; maps are [h, w, C] (the original's are [C, h, w]).
struct LayoutTrace {
    Tensor map_before_unpad;       // [map_h, map_w, C]
    Tensor map_after_interpolate;  // [out_h, out_w, C], only when resampled
};

// projected: [crops, 729, C], the crops in llava_crops' order; newline: [C]. Returns [rows, C].
Tensor image_rows(const Tensor& projected, const Tensor& newline, const AnyresGeometry& geometry,
                  LayoutTrace* trace = nullptr);

// Python's float floor division a // b (floor of the exactly rounded fmod-based quotient), which
// is not always floor(a / b): the original sizes the downscaled map with it.
double python_floordiv(double a, double b);

}  // namespace dimple
