// int8 weights, the format of `--compute int8` and of `dimple quantize`'s checkpoints: symmetric,
// one f32 scale per output channel (row).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace dimple {

// Weight rows [rows, k] of type `from` (F32, F16 or BF16; 2-byte types may be unaligned, as mapped
// checkpoint data is) -> q[r, i] = round(w[r, i] / scale[r]) in [-127, 127] with
// scale[r] = max_i |w[r, i]| / 127 (0 for an all-zero row).
void quantize_weight_rows(DType from, const void* w, int64_t rows, int64_t k, int8_t* q, float* scale);

// The inverse: w[r, i] = q[r, i] * scale[r] in f32.
void dequantize_weight_rows(const int8_t* q, const float* scale, int64_t rows, int64_t k, float* w);

}  // namespace dimple
