#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "io/stacked_linear.h"
#include "model/parameters.h"
#include "model/synthetic.h"
#include "testing.h"

using namespace dimple;
namespace fs = std::filesystem;

namespace {

const char* kTinyDream = R"({"model_type": "Dream", "hidden_size": 32, "intermediate_size": 48,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
  "mask_token_id": 299, "pad_token_id": 298, "bos_token_id": 297, "eos_token_id": 296})";

std::string checkpoint_error(const std::string& dir) {
    try {
        const ModelConfig cfg = load_model_config(dir);
        Checkpoint ck(dir);
        for (const auto& p : expected_parameters(cfg)) ck.get(p.name, p.shape);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Checkpoint, LoadsSingleFileAndShardsIdentically) {
    const std::string one = dtest::temp_dir(), three = dtest::temp_dir();
    write_synthetic_checkpoint(one, kTinyDream, {DType::BF16, 1, 7, 0.1f});
    write_synthetic_checkpoint(three, kTinyDream, {DType::BF16, 3, 7, 0.1f});
    EXPECT_TRUE(fs::exists(three + "/model.safetensors.index.json"));
    EXPECT_TRUE(fs::exists(three + "/model-00003-of-00003.safetensors"));
    const ModelConfig cfg = load_model_config(one);
    Checkpoint a(one), b(three);
    for (const auto& p : expected_parameters(cfg))
        EXPECT_TRUE(dtest::all_equal(a.get(p.name, p.shape).to_f32(), b.get(p.name, p.shape).to_f32()))
            << p.name;
}

TEST(Checkpoint, LoadsF32AndF16) {
    for (DType t : {DType::F32, DType::F16}) {
        const std::string dir = dtest::temp_dir();
        write_synthetic_checkpoint(dir, kTinyDream, {t, 1, 3, 0.1f});
        EXPECT_EQ(checkpoint_error(dir), "");
        Checkpoint ck(dir);
        EXPECT_EQ(ck.get("model.norm.weight", {32}).dtype(), t);
    }
}

TEST(Checkpoint, MissingTensorNamesItAndTheFile) {
    const std::string dir = dtest::temp_dir();
    write_synthetic_checkpoint(dir, kTinyDream, {DType::BF16, 2, 1, 0.1f});
    // Point one index entry at the wrong shard: that tensor is then missing from it.
    auto idx = nlohmann::json::parse(read_text_file(dir + "/model.safetensors.index.json"));
    idx["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors";
    idx["weight_map"]["model.embed_tokens.weight"] = "model-00002-of-00002.safetensors";
    std::ofstream(dir + "/model.safetensors.index.json") << idx.dump();
    const std::string msg = checkpoint_error(dir);
    EXPECT_NE(msg.find("model-0000"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing from the file"), std::string::npos) << msg;
}

TEST(Checkpoint, ShapeDisagreeingWithConfigIsNamed) {
    const std::string dir = dtest::temp_dir();
    write_synthetic_checkpoint(dir, kTinyDream, {DType::BF16, 1, 1, 0.1f});
    auto cfg = nlohmann::json::parse(kTinyDream);
    cfg["intermediate_size"] = 64;  // weights were written for 48
    std::ofstream(dir + "/config.json") << cfg.dump();
    const std::string msg = checkpoint_error(dir);
    EXPECT_NE(msg.find("model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight'"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("config implies [64, 32]"), std::string::npos) << msg;
}

TEST(Checkpoint, BadFolderIsAClearError) {
    EXPECT_NE(checkpoint_error("/nonexistent-model").find("not a model folder"), std::string::npos);
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/config.json") << kTinyDream;
    EXPECT_NE(checkpoint_error(dir).find("no model.safetensors"), std::string::npos);
}

TEST(Checkpoint, SharedGoldenModelHasEveryExpectedTensor) {
    const std::string dir = dtest::golden_dir() + "/model";
    const ModelConfig cfg = load_model_config(dir);
    Checkpoint ck(dir);
    std::map<Component, int64_t> counts;
    for (const auto& p : expected_parameters(cfg)) counts[p.component] += ck.get(p.name, p.shape).numel();
    EXPECT_EQ(ck.items().size(), 85u);
    EXPECT_EQ(counts[Component::LanguageModel] + counts[Component::Vision] + counts[Component::Projector],
              449568);
}

// q, k and v stacked for one product: their weights' rows and biases one after another, as
// published (bf16) or as int8 with each layer's own scales.
TEST(Checkpoint, StackedLinearIsTheLayersRowsInOrder) {
    const std::string dir = dtest::temp_dir();
    write_synthetic_checkpoint(dir, kTinyDream, {DType::BF16, 1, 5, 0.1f});
    Checkpoint ck(dir);
    const std::string a = "model.layers.1.self_attn.";
    const std::vector<std::string> names{a + "q_proj", a + "k_proj", a + "v_proj"};
    const std::vector<Shape> shapes{{32, 32}, {16, 32}, {16, 32}};
    for (bool int8 : {false, true}) {
        const StackedLinear s = stacked_linear(ck, names, shapes, true, int8);
        ASSERT_EQ(s.weight.shape(), (Shape{64, 32}));
        EXPECT_EQ(s.weight.dtype(), int8 ? DType::I8 : DType::BF16);
        EXPECT_EQ(s.scale.empty(), !int8);
        int64_t row = 0;
        for (size_t i = 0; i < names.size(); ++i) {
            const Checkpoint::LinearWeight w =
                int8 ? ck.linear_weight_int8(names[i], shapes[i]) : ck.linear_weight(names[i], shapes[i]);
            const Tensor bias = ck.get(names[i] + ".bias", {shapes[i][0]}).to_f32();
            const int64_t n = shapes[i][0];
            EXPECT_EQ(0, std::memcmp(s.weight.slice_rows(row, row + n).raw(), w.weight.raw(), w.weight.nbytes())) << names[i];
            EXPECT_EQ(0, std::memcmp(s.bias.data<float>() + row, bias.raw(), bias.nbytes())) << names[i];
            if (int8) {
                EXPECT_EQ(0, std::memcmp(s.scale.data<float>() + row, w.scale.raw(), w.scale.nbytes()));
            }
            row += n;
        }
    }
    EXPECT_THROW(stacked_linear(ck, names, {{32, 32}, {16, 32}, {15, 32}}, true, false), Error);
}
