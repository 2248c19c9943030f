// log(x) for positive normal f32 in straight-line arithmetic that compilers vectorise (std::log is
// a library call per element): Cephes' logf, the exponent split off from the bits, the mantissa
// moved into [sqrt(1/2), sqrt(2)) and a degree-9 polynomial, within 2 ulp of std::log
// (tests/kernels/test_ops.cpp). Zero, negative, subnormal, infinite and NaN inputs are outside its
// range (the entropy confidence feeds it p + 1e-10). Written by hand for the reason fast_exp.h gives.
#pragma once

#include <cstdint>
#include <cstring>

namespace dimple {

inline float fast_log(float x) {
    int32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    float e = float((bits >> 23) - 126);                   // x = m * 2^e with m in [0.5, 1)
    bits = (bits & 0x007fffff) | 0x3f000000;
    float m;
    std::memcpy(&m, &bits, sizeof m);
    const bool low = m < 0.707106781186547524f;            // move m into [sqrt(1/2), sqrt(2))
    e = low ? e - 1.0f : e;
    const float r = low ? m + m - 1.0f : m - 1.0f;
    const float z = r * r;
    float p = 7.0376836292e-2f;
    p = p * r - 1.1514610310e-1f;
    p = p * r + 1.1676998740e-1f;
    p = p * r - 1.2420140846e-1f;
    p = p * r + 1.4249322787e-1f;
    p = p * r - 1.6668057665e-1f;
    p = p * r + 2.0000714765e-1f;
    p = p * r - 2.4999993993e-1f;
    p = p * r + 3.3333331174e-1f;
    float y = p * r * z;
    y += e * -2.12194440e-4f;
    y += -0.5f * z;
    return r + y + e * 0.693359375f;
}

}  // namespace dimple
