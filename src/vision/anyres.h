// LLaDA-V's image preprocessing (LLaVA-NeXT "anyres", mm_utils.py, and the SigLIP processor): an
// image becomes a base view plus 384 x 384 tiles of its best-fitting grid resolution, or one padded
// square ("pad"), each crop turned into SigLIP pixel values. Bit-exact to the original (spec
// llada.md section 3): the goldens pin every canvas, crop and pixel tensor by SHA-256.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "io/llava_config.h"
#include "vision/image.h"

namespace dimple {

// The (width, height) candidate that keeps most of a width x height image's pixels when the image is
// scaled to fit it, the least wasted area breaking ties, the first candidate exact ties (IEEE double,
// as Python computes it).
std::pair<int, int> select_best_resolution(int width, int height, std::span<const std::pair<int, int>> candidates);

// The w x h region of `image` whose top-left pixel is (x, y); the region lies inside the image.
Image crop_image(const Image& image, int x, int y, int w, int h);

// The image resized (PIL bicubic) to fill the target on one axis, keeping its aspect ratio, and
// centred on a black target_w x target_h canvas.
Image resize_and_pad(const Image& image, int target_w, int target_h);

// The image centred on a square of side max(width, height) filled with grey `fill` ("pad" mode).
Image expand_to_square(const Image& image, uint8_t fill);

// What the SigLIP processor receives for one image, in order: anyres gives [base view, tiles in
// row-major order], without the base view when the merge drops it ("_nobase"); "pad" one crop.
// Every crop is kLlavaCropSize square.
struct LlavaCrops {
    std::vector<Image> crops;
    int grid_cols = 1, grid_rows = 1;  // anyres: the tile grid (best resolution / 384)
    Image padded;                      // anyres: the resize_and_pad canvas the tiles are cut from
};
LlavaCrops llava_crops(const Image& image, const LlavaVisionConfig& config);

// The SigLIP processor's pixel values: per crop [3, 384, 384] f32, channels first, each value
// f32(u8 / 255 in double) then (x - 0.5) / 0.5 in float. Returns [crops, 3, 384, 384].
Tensor siglip_pixel_values(std::span<const Image> crops);

}  // namespace dimple
