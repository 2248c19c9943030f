// Element types of tensors and the exact conversions between them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace dimple {

enum class DType : uint8_t { F32, F16, BF16, I64, I32, U8, I8 };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);

// bf16 is the upper half of an f32: widening is exact, narrowing rounds to nearest even
// (what torch's .to(torch.bfloat16) does); NaN stays NaN.
inline float bf16_to_f32(uint16_t h) {
    uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline uint16_t f32_to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return uint16_t(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// Converts n elements of type `from` at src to f32 at dst.
void convert_to_f32(DType from, const void* src, float* dst, size_t n);
void convert_f32_to_bf16(const float* src, uint16_t* dst, size_t n);

}  // namespace dimple
