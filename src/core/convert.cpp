// The array conversions of core/dtype.h, compiled once per instruction set (core/isa.h): the bf16
// rows of `--compute bf16` products and the weights converted at load run at AVX-512 width where
// the CPU has it.
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"
#include "core/isa.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

void convert_to_f32(DType from, const void* src, float* dst, size_t n) {
    switch (from) {
        case DType::F32: std::memcpy(dst, src, n * 4); return;
        // Element-wise memcpy: mapped checkpoint data need not be 2-byte aligned.
        case DType::BF16: {
            auto s = static_cast<const char*>(src);
            for (size_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, s + 2 * i, 2);
                dst[i] = bf16_to_f32(h);
            }
            return;
        }
        case DType::F16: {
            auto s = static_cast<const char*>(src);
            for (size_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, s + 2 * i, 2);
                dst[i] = f16_to_f32(h);
            }
            return;
        }
        default: fail("cannot convert ", dtype_name(from), " to F32");
    }
}

void convert_f32_to_bf16(const float* src, uint16_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
