#include <gtest/gtest.h>

#include <random>

#include "io/checkpoint.h"
#include "io/config.h"
#include "model/parameters.h"
#include "model/synthetic.h"
#include "testing.h"

using namespace dimple;

// The writer draws every value from one generator in parameter order and writes them a chunk of
// 2^20 at a time: the embedding table here (4100 x 256 = 1,049,600 values) spans two chunks, and
// the values after it continue the same stream, whatever the dtype or the number of shards.
TEST(SyntheticCheckpoint, ValuesFollowOneStreamAcrossChunksAndShards) {
    const std::string cfg_json = R"({"model_type": "Dream", "hidden_size": 256, "intermediate_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 4100,
      "mask_token_id": 4099, "pad_token_id": 4098, "bos_token_id": 4097, "eos_token_id": 4096})";
    for (const DType dtype : {DType::BF16, DType::F32})
        for (const int shards : {1, 3}) {
            SCOPED_TRACE(std::string(dtype_name(dtype)) + ", " + std::to_string(shards) + " shard(s)");
            const std::string dir = dtest::temp_dir();
            write_synthetic_checkpoint(dir, cfg_json, {dtype, shards, 9, 0.1f});
            const Checkpoint ck(dir);
            std::mt19937 rng(9);
            std::normal_distribution<float> normal(0.f, 0.1f);
            int64_t checked = 0;
            for (const ParameterSpec& p : expected_parameters(load_model_config(dir))) {
                const bool norm = p.name.find("norm") != std::string::npos;
                const Tensor t = ck.get(p.name, p.shape);
                ASSERT_EQ(t.dtype(), dtype) << p.name;
                for (int64_t i = 0; i < t.numel(); ++i) {
                    const float v = norm ? 1.0f + normal(rng) : normal(rng);
                    const float got = dtype == DType::F32 ? t.data<float>()[i] : bf16_to_f32(t.data<uint16_t>()[i]);
                    const float want = dtype == DType::F32 ? v : bf16_to_f32(f32_to_bf16(v));
                    ASSERT_EQ(got, want) << p.name << " [" << i << "]";
                }
                checked += t.numel();
            }
            EXPECT_GT(checked, int64_t(1) << 20);
        }
}
