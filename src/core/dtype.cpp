#include "core/dtype.h"

#include <cmath>

namespace dimple {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::F32: return 4;
        case DType::F16: return 2;
        case DType::BF16: return 2;
        case DType::I64: return 8;
        case DType::I32: return 4;
        case DType::U8: return 1;
        case DType::I8: return 1;
    }
    return 0;
}

std::string_view dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::BF16: return "BF16";
        case DType::I64: return "I64";
        case DType::I32: return "I32";
        case DType::U8: return "U8";
        case DType::I8: return "I8";
    }
    return "?";
}

// IEEE binary16 by bit manipulation: exact widening, round-to-nearest-even narrowing. Written by
// hand because the F16C instructions are not guaranteed on every x86-64 target we build for.
float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {  // subnormal: value = man * 2^-24
        float f = std::ldexp(float(man), -24);
        std::memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t f32_to_f16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return sign | 0x7e00u;
    if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65536: infinity
    if (abs < 0x38800000u) {                         // below the smallest normal: subnormal or 0
        float a;
        std::memcpy(&a, &abs, 4);
        return sign | uint16_t(std::nearbyint(a * 16777216.0f));  // units of 2^-24, ties to even
    }
    uint32_t r = abs + 0xfffu + ((abs >> 13) & 1u);
    return sign | uint16_t((r - 0x38000000u) >> 13);
}

}  // namespace dimple
