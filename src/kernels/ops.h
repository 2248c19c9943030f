// Element-wise and row-wise kernels on contiguous f32 rows. Plain loops that the compiler
// vectorises; each is checked against a double-precision reference in tests/kernels.
#pragma once

#include <cstdint>

#include "kernels/fast_exp.h"

namespace dimple {

// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for `rows` rows of length n (y may alias x).
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);

// In-place rotate-half rotary embedding of `heads` vectors of length d starting at x (stride
// `head_stride` floats between heads): x = x*cos + rotate_half(x)*sin, cos/sin of length d.
void apply_rotary(float* x, int64_t heads, int64_t head_stride, int64_t d, const float* cos,
                  const float* sin);

// In-place softmax of a row of length n.
void softmax(float* x, int64_t n);

inline float silu(float x) { return x / (1.0f + fast_exp(-x)); }
float gelu_erf(float x);

// out[i] = silu(gate[i]) * up[i].
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
// out[r, i] = silu(gate_up[r, i]) * gate_up[r, n + i]: rows of [gate | up] from one stacked product.
void silu_mul_rows(const float* gate_up, int64_t rows, int64_t n, float* out);
void gelu_erf_inplace(float* x, int64_t n);
void silu_inplace(float* x, int64_t n);
// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

}  // namespace dimple
