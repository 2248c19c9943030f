// The entry points of the hand-written kernels (attention.cpp, ops.cpp, quantize.cpp): each calls
// the copy compiled for the instruction set this process runs. oneDNN chooses its own code for the
// matrix products; these loops are ours to choose for (core/isa.h says how).
#include "core/isa.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/quantize.h"

namespace dimple {

DIMPLE_ISA_KERNEL(attention)
DIMPLE_ISA_KERNEL(rms_norm)
DIMPLE_ISA_KERNEL(rms_norm_row)
DIMPLE_ISA_KERNEL(layer_norm)
DIMPLE_ISA_KERNEL(normed_row)
DIMPLE_ISA_KERNEL(apply_rotary)
DIMPLE_ISA_KERNEL(softmax)
DIMPLE_ISA_KERNEL(silu_mul_rows)
DIMPLE_ISA_KERNEL(gelu_erf_inplace)
DIMPLE_ISA_KERNEL(gelu_tanh_inplace)
DIMPLE_ISA_KERNEL(silu_inplace)
DIMPLE_ISA_KERNEL(add_inplace)
DIMPLE_ISA_KERNEL(quantize_activation_rows)
DIMPLE_ISA_KERNEL(dequantize_products)

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask) {
    DIMPLE_DISPATCH(attention)(q, k, v, out, s, mask);
}

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
    DIMPLE_DISPATCH(rms_norm)(x, w, y, rows, n, eps);
}

void rms_norm_row(const float* x, const float* w, float* y, int64_t n, float eps) {
    DIMPLE_DISPATCH(rms_norm_row)(x, w, y, n, eps);
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
    DIMPLE_DISPATCH(layer_norm)(x, w, b, y, rows, n, eps);
}

const float* normed_row(const float* x, int64_t n, RowNorm norm) { return DIMPLE_DISPATCH(normed_row)(x, n, norm); }

void apply_rotary(float* x, int64_t heads, int64_t head_stride, int64_t d, const float* cos, const float* sin) {
    DIMPLE_DISPATCH(apply_rotary)(x, heads, head_stride, d, cos, sin);
}

void softmax(float* x, int64_t n) { DIMPLE_DISPATCH(softmax)(x, n); }

void silu_mul_rows(const float* gate_up, int64_t rows, int64_t n, float* out) {
    DIMPLE_DISPATCH(silu_mul_rows)(gate_up, rows, n, out);
}

void gelu_erf_inplace(float* x, int64_t n) { DIMPLE_DISPATCH(gelu_erf_inplace)(x, n); }

void gelu_tanh_inplace(float* x, int64_t n) { DIMPLE_DISPATCH(gelu_tanh_inplace)(x, n); }

void silu_inplace(float* x, int64_t n) { DIMPLE_DISPATCH(silu_inplace)(x, n); }

void add_inplace(float* y, const float* x, int64_t n) { DIMPLE_DISPATCH(add_inplace)(y, x, n); }

void quantize_activation_rows(const float* x, int64_t rows, int64_t k, ActivationCode code, uint8_t* q,
                              float* scale, int32_t* zero, RowNorm norm) {
    DIMPLE_DISPATCH(quantize_activation_rows)(x, rows, k, code, q, scale, zero, norm);
}

void dequantize_products(float* y, const int32_t* colsum, const float* x_scale, const int32_t* zero,
                         const float* w_scale, const float* bias, int64_t rows, int64_t n) {
    DIMPLE_DISPATCH(dequantize_products)(y, colsum, x_scale, zero, w_scale, bias, rows, n);
}

}  // namespace dimple
