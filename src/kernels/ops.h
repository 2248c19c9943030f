// Element-wise and row-wise kernels on contiguous f32 rows. Plain loops that the compiler
// vectorises, once per instruction set (core/isa.h); each is checked against a double-precision
// reference in tests/kernels.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/fast_exp.h"

namespace dimple {

// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for `rows` rows of length n (y may alias x).
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);
// The same for one row: what rms_norm computes for each, bit for bit.
void rms_norm_row(const float* x, const float* w, float* y, int64_t n, float eps);

// torch.nn.LayerNorm: y[r] = (x[r] - mean) / sqrt(var + eps) * w + b, the variance biased (/ n).
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps);

// An RMSNorm that a kernel applies to its input rows as it reads them (weight null: none), so that
// the normalised rows are never written out as f32 tensors (Linear::forward, the int8 quantization).
struct RowNorm {
    const float* weight = nullptr;
    float eps = 0.f;
    explicit operator bool() const { return weight != nullptr; }
};
// Row x (length n) as a kernel reads it under `norm`: x itself, or its normalised copy in a buffer
// of the calling thread, valid until that thread's next call.
const float* normed_row(const float* x, int64_t n, RowNorm norm);

// In-place rotate-half rotary embedding of `heads` vectors of length d starting at x (stride
// `head_stride` floats between heads): x = x*cos + rotate_half(x)*sin, cos/sin of length d.
void apply_rotary(float* x, int64_t heads, int64_t head_stride, int64_t d, const float* cos,
                  const float* sin);

// In-place softmax of a row of length n.
void softmax(float* x, int64_t n);

inline float silu(float x) { return x / (1.0f + fast_exp(-x)); }
inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * float(M_SQRT1_2))); }
// torch's gelu(approximate="tanh") (SigLIP's gelu_pytorch_tanh).
inline float gelu_tanh(float x) {
    const float kSqrt2OverPi = 0.7978845608028654f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

// out[r, i] = silu(gate_up[r, i]) * gate_up[r, n + i]: rows of [gate | up] from one stacked product.
void silu_mul_rows(const float* gate_up, int64_t rows, int64_t n, float* out);
void gelu_erf_inplace(float* x, int64_t n);
void gelu_tanh_inplace(float* x, int64_t n);
void silu_inplace(float* x, int64_t n);
// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

}  // namespace dimple
