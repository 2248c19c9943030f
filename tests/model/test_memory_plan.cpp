// Which compute mode `auto` picks, and the failure before loading when nothing fits.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/memory_plan.h"
#include "io/config.h"
#include "model/synthetic.h"
#include "model/synthetic_published.h"
#include "testing.h"

using namespace dimple;

namespace {

constexpr uint64_t G = uint64_t(1) << 30;

// A 7B-like footprint: f32 31 GiB, bf16 16 GiB, int8 8.5 GiB (working memory included).
Footprint seven_b(bool int8_ckpt = false, bool f32_ckpt = false) {
    Footprint f;
    f.weights.f32 = 30 * G, f.weights.bf16 = 15 * G, f.weights.int8 = 15 * G / 2;
    f.working.language = G;
    f.weights.int8_checkpoint = int8_ckpt;
    f.weights.f32_checkpoint = f32_ckpt;
    return f;
}

const CpuFeatures kZen5{true, true}, kIceLake{false, true}, kAvx2{false, false};

Compute pick(const Footprint& f, uint64_t avail, CpuFeatures cpu, Compute asked = Compute::Auto) {
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
    EXPECT_EQ(f.f32, 4 * linear + other);
    EXPECT_EQ(f.bf16, 2 * linear + other);
    EXPECT_EQ(f.int8, linear + 8 * outs + other);
    EXPECT_FALSE(f.int8_checkpoint);
    EXPECT_FALSE(f.f32_checkpoint);
}

namespace {

// rp-yu/Dimple-7B's shapes (bench/bench_7b.cpp writes the whole config).
ModelConfig dimple_7b() {
    return parse_model_config(R"({"model_type": "dimple", "hidden_size": 3584, "intermediate_size": 18944,
      "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
      "mrope_section": [16, 24, 24], "pad_token_id": 151643, "bos_token_id": 151644, "eos_token_id": 151645,
      "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
      "image_token_id": 151655, "video_token_id": 151656, "mask_token_id": 151666,
      "vision_config": {"depth": 32, "fullatt_block_indexes": [7, 15, 23, 31], "hidden_size": 1280,
        "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584}})",
                              "dimple-7b");
}

}  // namespace

// The working memory follows the request: rows of a pass, the prompt's caches, the answer's
// logits, and the vision tower's patches (each image at most the processor's max_pixels).
TEST(MemoryPlan, WorkingMemoryIsSizedFromTheModelAndTheRequest) {
    const ModelConfig c = dimple_7b();
    PreprocessorConfig pre;
    pre.max_pixels = 12845056;  // Qwen2.5-VL's
    const WorkingMemory base = working_memory(c, pre, {4096, 64, 1});
    const WorkingMemory longer = working_memory(c, pre, {8192, 64, 1});
    const WorkingMemory answer = working_memory(c, pre, {4096, 1024, 1});
    EXPECT_GT(longer.language, base.language * 3 / 2);
    EXPECT_GT(answer.language, base.language);
    EXPECT_EQ(base.program, kProgramBytes);
    // Kept buffers: no more than the activations, and the cache's own bound.
    EXPECT_EQ(base.kept_buffers, uint64_t(512) << 20);
    const WorkingMemory small = working_memory(c, pre, {16, 4, 0});
    EXPECT_EQ(small.kept_buffers, small.activations());
    // A language-model pass at 7B width over 4160 rows: ~72,000 floats a row, 28 layers of caches
    // (1024 floats a row each), two [64, 152064] logit arrays: between 1.5 and 2 GiB.
    EXPECT_EQ(base.activations(), base.language);
    EXPECT_GT(base.language, 3 * G / 2);
    EXPECT_LT(base.language, 2 * G);
    // Images: bounded by max_pixels each, and by the prompt (4 patches per image token).
    pre.max_pixels = 448 * 448;  // 1024 patches an image
    const WorkingMemory one = working_memory(c, pre, {4096, 0, 1}), four = working_memory(c, pre, {4096, 0, 4});
    EXPECT_EQ(four.vision, 4 * one.vision);
    EXPECT_EQ(working_memory(c, pre, {256, 0, 4}).vision, working_memory(c, pre, {256, 0, 64}).vision);
    EXPECT_EQ(working_memory(c, pre, {256, 0, 64}).vision, one.vision);  // 4 x 256 patches = one image
}

// The shipped model at `dimple run`'s defaults: a figure of tens of MiB, not the 512 MiB of a fixed
// allowance. Measured peak of `dimple run` on it (Describe the image, bf16): 22 MiB.
TEST(MemoryPlan, ASmallModelGetsASmallFigure) {
    const std::string dir = dtest::source_dir() + "/models/dimple-shapes";
    const ModelConfig c = load_model_config(dir);
    const WorkingMemory w = working_memory(c, load_preprocessor_config(dir), RequestLimits{});
    EXPECT_LT(w.total(), uint64_t(128) << 20);
    EXPECT_GT(w.total(), uint64_t(22) << 20);
}

// LLaDA-V at its published size: the vision path is the image with the most anyres crops (base +
// the 6 x 6 pinpoint's 36 tiles = 37 crops of 729 patches) through SigLIP in one batch, the
// projector, the layout; the language pass has LLaDA's edited logits and the prompt's embedding rows.
TEST(MemoryPlan, LladaVVisionPathAndLanguageRows) {
    const ModelConfig c = parse_model_config(llada_v_model().config_json, "llada-v");
    ASSERT_TRUE(c.llava.has_value());
    const PreprocessorConfig pre;
    const uint64_t f = 4, N = 37 * 729, H = 1152, I = 4304, L = 4096, P = 4096;
    const uint64_t tower = f * N * (7 * H + 2 * I) + f * 16 * 729 * 729;  // larger than projector and layout
    const uint64_t one_image = f * L * P /* earlier images' rows */ + f * 37 * 3 * 384 * 384 /* pixels */ + tower;
    const WorkingMemory w = working_memory(c, pre, {int64_t(P), 128, 1});
    EXPECT_EQ(w.vision, one_image);
    EXPECT_GT(w.vision, 3 * G / 2);  // ~1.8 GiB: the [26973, 4304] fc1 rows and their converted copy
    EXPECT_LT(w.vision, 2 * G);
    EXPECT_EQ(working_memory(c, pre, {int64_t(P), 128, 0}).vision, 0u);
    // At bench_llada_v's limits (1600 prompt rows, 8 answer rows) the language stage is still the
    // larger: 32 layers of caches over 1608 rows (1.57 GiB) and the pass (0.49 GiB).
    const WorkingMemory bench = working_memory(c, pre, {1600, 8, 1});
    const uint64_t rows = 1608, Hl = 4096, Il = 12288;
    const uint64_t language = f * rows * (8 * Hl + 4 * Il) + f * 32 * rows * 2 * Hl + f * 1600 * Hl +
                              3 * f * 8 * 126464;
    EXPECT_EQ(bench.language, language);
    EXPECT_GT(bench.language, bench.vision);
    // One crop in "pad" mode.
    nlohmann::json j = nlohmann::json::parse(llada_v_model().config_json);
    j["image_aspect_ratio"] = "pad";
    const ModelConfig pad = parse_model_config(j.dump(), "llada-v pad");
    const uint64_t pad_tower = f * 729 * (7 * H + 2 * I) + f * 16 * 729 * 729;
    EXPECT_EQ(working_memory(pad, pre, {int64_t(P), 128, 1}).vision,
              f * L * P + f * 3 * 384 * 384 + std::max({pad_tower, f * 729 * (H + 3 * L), f * L * (2 * 729 + P)}));
}
