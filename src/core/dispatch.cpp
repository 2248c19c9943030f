// The entry points of core's kernels (convert.cpp, int8.cpp): each calls the copy compiled for the
// instruction set this process runs (core/isa.h says why and how).
#include "core/dtype.h"
#include "core/int8.h"
#include "core/isa.h"

namespace dimple {

DIMPLE_ISA_KERNEL(convert_to_f32)
DIMPLE_ISA_KERNEL(convert_f32_to_bf16)
DIMPLE_ISA_KERNEL(quantize_weight_rows)
DIMPLE_ISA_KERNEL(dequantize_weight_rows)

void convert_to_f32(DType from, const void* src, float* dst, size_t n) {
    DIMPLE_DISPATCH(convert_to_f32)(from, src, dst, n);
}

void convert_f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
    DIMPLE_DISPATCH(convert_f32_to_bf16)(src, dst, n);
}

void quantize_weight_rows(DType from, const void* w, int64_t rows, int64_t k, int8_t* q, float* scale) {
    DIMPLE_DISPATCH(quantize_weight_rows)(from, w, rows, k, q, scale);
}

void dequantize_weight_rows(const int8_t* q, const float* scale, int64_t rows, int64_t k, float* w) {
    DIMPLE_DISPATCH(dequantize_weight_rows)(q, scale, rows, k, w);
}

}  // namespace dimple
