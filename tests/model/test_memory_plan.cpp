// Which compute mode `auto` picks, and the failure before loading when nothing fits.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/memory_plan.h"
#include "model/synthetic.h"
#include "testing.h"

using namespace dimple;

namespace {

constexpr uint64_t G = uint64_t(1) << 30;

// A 7B-like footprint: f32 31 GiB, bf16 16 GiB, int8 8.5 GiB.
WeightFootprint seven_b(bool int8_ckpt = false, bool f32_ckpt = false) {
    WeightFootprint f;
    f.f32 = 31 * G, f.bf16 = 16 * G, f.int8 = 17 * G / 2;
    f.int8_checkpoint = int8_ckpt;
    f.f32_checkpoint = f32_ckpt;
    return f;
}

const CpuFeatures kZen5{true, true}, kIceLake{false, true}, kAvx2{false, false};

Compute pick(const WeightFootprint& f, uint64_t avail, CpuFeatures cpu, Compute asked = Compute::Auto) {
    return plan_compute(asked, f, {avail, "test"}, cpu).compute;
}

}  // namespace

TEST(MemoryPlan, AutoPicksTheFastestModeThatFits) {
    EXPECT_EQ(pick(seven_b(), 22 * G, kZen5), Compute::BF16);
    EXPECT_EQ(pick(seven_b(), 12 * G, kZen5), Compute::Int8);     // bf16 does not fit
    EXPECT_EQ(pick(seven_b(), 64 * G, kIceLake), Compute::Int8);  // never a silent upcast to f32
    EXPECT_EQ(pick(seven_b(), 64 * G, kAvx2), Compute::Int8);
    EXPECT_EQ(pick(seven_b(false, true), 64 * G, kIceLake), Compute::F32);  // f32 weights: no upcast
    EXPECT_EQ(pick(seven_b(false, true), 20 * G, kIceLake), Compute::Int8);
    EXPECT_EQ(pick(seven_b(true), 64 * G, kZen5), Compute::Int8);  // int8 checkpoint
    const ComputePlan p = plan_compute(Compute::Auto, seven_b(), {22 * G, "MemAvailable"}, kZen5);
    EXPECT_NE(p.reason.find("bf16"), std::string::npos) << p.reason;
    EXPECT_NE(p.reason.find("22.00 GiB available (MemAvailable)"), std::string::npos) << p.reason;
}

TEST(MemoryPlan, FailsBeforeLoadingWithTheFiguresAndWhatWouldFit) {
    try {
        pick(seven_b(), 24 * G, kZen5, Compute::F32);
        FAIL() << "f32 does not fit";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("--compute f32 needs 31.00 GiB"), std::string::npos) << m;
        EXPECT_NE(m.find("24.00 GiB available"), std::string::npos) << m;
        EXPECT_NE(m.find("--compute int8 (8.50 GiB) or --compute bf16 (16.00 GiB) would fit"), std::string::npos) << m;
    }
    try {
        pick(seven_b(), 4 * G, kAvx2);
        FAIL() << "nothing fits";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no compute mode fits"), std::string::npos) << e.what();
    }
    EXPECT_EQ(pick(seven_b(), 24 * G, kZen5, Compute::BF16), Compute::BF16);  // asked, and fits
}

// The footprint of a real folder: linear weights per mode, the embedding table as stored.
TEST(MemoryPlan, FootprintOfASyntheticCheckpoint) {
    const std::string dir = dtest::temp_dir();
    const std::string cfg = R"({"model_type": "Dream", "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
      "mask_token_id": 299, "pad_token_id": 298, "bos_token_id": 297, "eos_token_id": 297})";
    write_synthetic_checkpoint(dir, cfg, {DType::BF16, 1, 1, 0.05f});
    const WeightFootprint f = weight_footprint(Checkpoint(dir), parse_model_config(cfg, "cfg"));
    // Linear weights per layer: q 64x64, k 32x64, v 32x64, o 64x64, gate/up 128x64, down 64x128;
    // lm_head 300x64. Outputs (for int8 scales): 64+32+32+64+128+128+64 per layer, 300.
    const uint64_t linear = 2 * (4096 + 2048 + 2048 + 4096 + 3 * 8192) + 300 * 64;
    const uint64_t outs = 2 * (64 + 32 + 32 + 64 + 128 + 128 + 64) + 300;
    const uint64_t other = 300 * 64 * 2 /* embedding, bf16 */ + 4 * (2 * (64 + 64 + 32 + 32 + 64) + 64);
    EXPECT_EQ(f.f32, 4 * linear + other + kWorkingBytes);
    EXPECT_EQ(f.bf16, 2 * linear + other + kWorkingBytes);
    EXPECT_EQ(f.int8, linear + 8 * outs + other + kWorkingBytes);
    EXPECT_FALSE(f.int8_checkpoint);
    EXPECT_FALSE(f.f32_checkpoint);
}
