// Bicubic resampling of 8-bit RGB that reproduces PIL 9.4's `Image.resize(size, Image.BICUBIC)`
// to the byte: the original processor resized with PIL, and the model saw PIL's rounding.
#pragma once

#include "vision/image.h"

namespace dimple {

// PIL's separable convolution resampler: Keys' cubic (a = -0.5) widened by the shrink factor when
// shrinking (antialiasing), weights in 22-bit fixed point, a horizontal pass then a vertical pass,
// each rounded and clipped to 8 bits. An axis whose size is unchanged is not resampled.
Image resize_bicubic(const Image& src, int width, int height);

}  // namespace dimple
