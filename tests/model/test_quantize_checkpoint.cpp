// `dimple quantize`'s writer: the int8 folder loads without quantizing again and computes exactly
// what quantizing at load computes; names and dtypes as documented; bad requests refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/packed_weights.h"
#include "model/language_model.h"
#include "model/parameters.h"
#include "model/quantize_checkpoint.h"
#include "testing.h"

using namespace dimple;

TEST(QuantizeCheckpoint, Int8FolderEqualsQuantizingAtLoad) {
    const std::string src = dtest::golden_dir() + "/model", out = dtest::temp_dir() + "/q";
    int calls = 0;
    quantize_checkpoint(src, out, [&](const QuantizeProgress& p) { calls = p.done; });
    const ModelConfig cfg = load_model_config(src);
    EXPECT_EQ(calls, int(expected_parameters(cfg).size()));
    EXPECT_TRUE(std::filesystem::exists(out + "/config.json"));
    EXPECT_TRUE(std::filesystem::exists(out + "/preprocessor_config.json"));

    const Checkpoint q(out), orig(src);
    for (const ParameterSpec& p : expected_parameters(cfg)) {
        const std::string base = p.name.substr(0, p.name.size() - 7);
        if (p.linear) {
            const Checkpoint::LinearWeight w = q.linear_weight(base, p.shape);
            EXPECT_EQ(w.weight.dtype(), DType::I8) << p.name;
            EXPECT_EQ(w.scale.shape(), Shape{p.shape[0]}) << p.name;
        } else {  // as published
            EXPECT_TRUE(dtest::all_equal(q.get(p.name, p.shape), orig.get(p.name, p.shape))) << p.name;
        }
    }

    const LanguageModel a(q, cfg, Compute::Int8), b(orig, cfg, Compute::Int8);
    const std::vector<int64_t> ids{5, 6, 7, 100, 2008, 2008};
    ForwardInput in;
    in.batch = 1;
    in.len = int64_t(ids.size());
    in.embeddings = a.embed(ids);
    for (int64_t i = 0; i < in.len; ++i) in.positions.push_back({i, i, i});
    const std::vector<int64_t> rows{0, 1, 2, 3, 4, 5};
    EXPECT_TRUE(dtest::all_equal(a.logits(a.forward(in), rows), b.logits(b.forward(in), rows)));
    // The float modes load it too (dequantized), within int8's error of the original.
    const LanguageModel c(q, cfg, Compute::F32);
    EXPECT_TRUE(dtest::all_close(c.logits(c.forward(in), rows), b.logits(b.forward(in), rows), 4.0, 0));

    EXPECT_THROW(quantize_checkpoint(out, dtest::temp_dir() + "/again"), Error);  // already int8
    EXPECT_THROW(quantize_checkpoint(src, out), Error);                           // would overwrite
}

namespace {

Tensor first_logits(const LanguageModel& m) {
    ForwardInput in;
    in.batch = 1;
    in.len = 4;
    const std::vector<int64_t> ids{5, 6, 7, 100}, rows{0, 1, 2, 3};
    in.embeddings = m.embed(ids);
    for (int64_t i = 0; i < in.len; ++i) in.positions.push_back({i, i, i});
    return m.logits(m.forward(in), rows);
}

}  // namespace

// model.packed holds every layer as loading packed it, and loading maps it: the same logits, and a
// changed byte of it changes them (so the layers really compute from the file).
TEST(QuantizeCheckpoint, PackedLayoutIsWhatLoadingMaps) {
    const std::string src = dtest::golden_dir() + "/model", out = dtest::temp_dir() + "/q";
    quantize_checkpoint(src, out);
    const ModelConfig cfg = load_model_config(src);
    const std::string path = out + "/" + kPackedWeightsFile;
    Tensor expected;
    {
        Checkpoint q(out);
        PackedWeightsWriter writer(path);
        q.record_packed(&writer);
        const LanguageModel m(q, cfg, Compute::Int8);
        writer.finish();
        EXPECT_EQ(writer.layers(), size_t(4 * cfg.num_layers + 1));  // qkv, o, gate_up, down; lm_head
        expected = first_logits(m);
    }
    const Checkpoint q(out);
    ASSERT_NE(q.packed(), nullptr);
    EXPECT_EQ(q.packed()->size(), size_t(4 * cfg.num_layers + 1));
    EXPECT_TRUE(dtest::all_equal(first_logits(LanguageModel(q, cfg, Compute::Int8)), expected));
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::streamoff(2) << 20);  // the first layer's weights
        const std::string junk(256, '\x55');
        f.write(junk.data(), std::streamsize(junk.size()));
    }
    const Checkpoint changed(out);
    EXPECT_FALSE(dtest::all_equal(first_logits(LanguageModel(changed, cfg, Compute::Int8)), expected));
    // Loaded as f32 the folder ignores it.
    EXPECT_TRUE(dtest::all_close(first_logits(LanguageModel(changed, cfg, Compute::F32)), expected, 4.0, 0));
}
