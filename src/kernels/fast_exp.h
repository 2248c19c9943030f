// exp(x) for f32 in straight-line arithmetic that compilers vectorise (std::exp is a library call
// per element): Cephes' expf, range reduction by ln 2 in two parts and a degree-7 polynomial,
// within 2 ulp of std::exp on [-87.3, 88.3] (tests/kernels/test_ops.cpp). Below that range it
// returns exactly 0, so exp(-inf) = 0 as a masked score needs; above it, exp(88.37). Written by
// hand because no Debian library offers an inlinable vector exp for plain loops (SLEEF's would
// need its own CPU dispatch); being plain C++, it vectorises for the instruction set of the kernel
// that inlines it (core/isa.h), given -fno-trapping-math (CMakeLists.txt says why).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dimple {

inline float fast_exp(float x) {
    const float lo = -87.33654f, hi = 88.3762626f;  // so that 2^n stays a normal float
    const float xc = x < lo ? lo : (x > hi ? hi : x);
    const float n = std::floor(xc * 1.44269504088896341f + 0.5f);
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const int32_t bits = (int32_t(n) + 127) << 23;  // 2^n, n in [-126, 128) after the clamp
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return x < lo ? 0.0f : y * scale;
}

}  // namespace dimple
