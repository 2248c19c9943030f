// The Qwen2-VL image processor as the original Dimple ran it: smart_resize to multiples of
// patch_size * merge_size, PIL bicubic resize, rescale and normalize, then the patch rows that the
// vision tower's patch embedding consumes. Bit-identical to the original (see spec section 3).
#pragma once

#include <cstdint>
#include <utility>

#include "core/image_grid.h"
#include "core/tensor.h"
#include "io/config.h"
#include "vision/image.h"
#include "vision/resize.h"

namespace dimple {

struct PixelValues {
    Tensor values;  // [t*h*w, 3 * temporal_patch_size * patch_size^2] f32
    ImageGrid grid;
};

// The target {height, width}: each side rounded (half to even, as Python's round) to a multiple
// of `factor`, then scaled as a whole to bring the area within [min_pixels, max_pixels]. Throws,
// as the original does, for a side shorter than `factor` or an aspect ratio above 200.
std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels);

// Resizes with smart_resize's size, then rescales and normalizes (rounding exactly as the
// original: quirk P2), repeats the picture over temporal_patch_size frames and lays the patches
// out in rows ordered (t, h/merge, w/merge, merge, merge), each row channel-major (C, T, P, P).
PixelValues preprocess_image(const Image& image, const PreprocessorConfig& config);

}  // namespace dimple
