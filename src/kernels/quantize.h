// int8 products: activations quantized per row on the fly, and the dequantization of the s32 sums
// (weights are quantized per output channel by core/int8.h). Plain loops that the compiler
// vectorises, once per instruction set (core/isa.h); checked against a double-precision reference
// in tests/kernels/test_quantize.cpp.
#pragma once

#include <cstdint>

#include "core/int8.h"
#include "kernels/ops.h"

namespace dimple {

// How activations become unsigned bytes for the u8 x s8 products: per row, asymmetric,
// q = round(x / scale) + zero in [0, levels], the row's range [min(x, 0), max(x, 0)] spread over
// `levels` steps (so a one-sided row such as a SiLU output keeps the full resolution). CPUs with
// VNNI multiply-add u8 x s8 without intermediate saturation: 255 levels. Without VNNI the products
// go through 16-bit pair sums that saturate above 32767: 127 levels (2 * 127 * 127 < 32768).
struct ActivationCode {
    int levels = 255;
};

// x rows [rows, k] -> q (u8), per-row scales (0 for an all-zero row) and zero points. With `norm`,
// the rows quantized are rms_norm_row(x[r]) (the same codes as normalising first, bit for bit), each
// normalised in a row-sized buffer that stays in cache instead of an f32 tensor written and re-read.
void quantize_activation_rows(const float* x, int64_t rows, int64_t k, ActivationCode code, uint8_t* q,
                              float* scale, int32_t* zero, RowNorm norm = {});

// The f32 result of a u8 x s8 product, in place: y holds the s32 sums acc[m, n] =
// sum_i q_x[m, i] * q_w[n, i], and becomes
// y[m, n] = (acc[m, n] - zero[m] * colsum[n]) * x_scale[m] * w_scale[n] + bias[n] (bias may be null).
void dequantize_products(float* y, const int32_t* colsum, const float* x_scale, const int32_t* zero,
                         const float* w_scale, const float* bias, int64_t rows, int64_t n);

}  // namespace dimple
