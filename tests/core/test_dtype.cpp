#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/dtype.h"

using namespace dimple;

TEST(DType, Bf16RoundsToNearestEven) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
    // 1 + 2^-8 lies exactly between bf16 neighbours 1 and 1+2^-7: ties go to the even one (1).
    EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
    // 1 + 3*2^-8 is a tie between 1+2^-7 (odd) and 1+2^-6 (even).
    EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
    EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_EQ(bf16_to_f32(f32_to_bf16(-INFINITY)), -INFINITY);
}

TEST(DType, Bf16RoundTripIsWithinHalfUlp) {
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.f, 100.f);
    for (int i = 0; i < 10000; ++i) {
        const float x = dist(rng);
        const float y = bf16_to_f32(f32_to_bf16(x));
        EXPECT_LE(std::abs(x - y), std::abs(x) * std::ldexp(1.0f, -8) * 1.0001f) << x;
    }
}

TEST(DType, F16MatchesKnownEncodings) {
    EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(f32_to_f16(65536.0f), 0x7c00);          // overflow to infinity
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 1);  // smallest subnormal
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
    EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
}

TEST(DType, F16RoundTripOfEveryHalf) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
    }
}
