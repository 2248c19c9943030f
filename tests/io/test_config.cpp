#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/config.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

json tiny_dimple() {
    return json::parse(R"({
      "model_type": "dimple", "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
      "vocab_size": 2048, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
      "mrope_section": [2, 3, 3], "mask_token_id": 2008, "pad_token_id": 2000,
      "bos_token_id": 2001, "eos_token_id": 2002, "image_token_id": 2006,
      "vision_start_token_id": 2003, "vision_end_token_id": 2004,
      "vision_config": {"depth": 4, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                        "out_hidden_size": 64, "fullatt_block_indexes": [1, 3]}})");
}

std::string error_of(const json& j) {
    try {
        parse_model_config(j.dump(), "config.json");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Config, ParsesDimple) {
    const ModelConfig c = parse_model_config(tiny_dimple().dump(), "config.json");
    EXPECT_EQ(c.arch, Architecture::Dimple);
    EXPECT_EQ(c.head_dim(), 16);
    EXPECT_EQ(c.mrope_section, (std::array<int, 3>{2, 3, 3}));
    ASSERT_TRUE(c.vision.has_value());
    EXPECT_EQ(c.vision->head_dim(), 16);
    EXPECT_EQ(c.vision->patch_dim(), 1176);
    EXPECT_EQ(c.ids.mask, 2008);
}

TEST(Config, ParsesDreamAsTextOnlyWithOneDimensionalRope) {
    json j = tiny_dimple();
    j["model_type"] = "Dream";
    j.erase("vision_config");
    j.erase("mrope_section");
    const ModelConfig c = parse_model_config(j.dump(), "config.json");
    EXPECT_EQ(c.arch, Architecture::Dream);
    EXPECT_FALSE(c.vision.has_value());
    EXPECT_EQ(c.mrope_section, (std::array<int, 3>{8, 0, 0}));
}

TEST(Config, LoadsTheSharedGoldenConfig) {
    const ModelConfig c = load_model_config(dtest::golden_dir() + "/model");
    EXPECT_EQ(c.vocab_size, 2048);
    EXPECT_EQ(c.vision->fullatt_block_indexes, (std::vector<int>{1, 3}));
    const PreprocessorConfig p = load_preprocessor_config(dtest::golden_dir() + "/model");
    EXPECT_EQ(p.min_pixels, 3136);
    EXPECT_EQ(p.max_pixels, 200704);
}

TEST(Config, RejectsBadConfigsWithTheFieldName) {
    json j = tiny_dimple();
    j.erase("hidden_size");
    EXPECT_NE(error_of(j).find("\"hidden_size\""), std::string::npos);
    j = tiny_dimple();
    j["num_attention_heads"] = "four";
    EXPECT_NE(error_of(j).find("must be an integer"), std::string::npos);
    j = tiny_dimple();
    j["num_attention_heads"] = 5;
    EXPECT_NE(error_of(j).find("not divisible"), std::string::npos);
    j = tiny_dimple();
    j["num_key_value_heads"] = 3;
    EXPECT_NE(error_of(j).find("num_key_value_heads"), std::string::npos);
    j = tiny_dimple();
    j["mrope_section"] = {2, 2, 2};
    EXPECT_NE(error_of(j).find("mrope_section"), std::string::npos);
    j = tiny_dimple();
    j["model_type"] = "llama";
    EXPECT_NE(error_of(j).find("not supported"), std::string::npos);
    j = tiny_dimple();
    j["mask_token_id"] = 5000;
    EXPECT_NE(error_of(j).find("out of range"), std::string::npos);
    j = tiny_dimple();
    j.erase("vision_config");
    EXPECT_NE(error_of(j).find("vision_config"), std::string::npos);
    j = tiny_dimple();
    j["vision_config"]["fullatt_block_indexes"] = {7};
    EXPECT_NE(error_of(j).find("fullatt_block_indexes"), std::string::npos);
    EXPECT_NE(error_of(json::parse("[]")).find("JSON object"), std::string::npos);
    try {
        parse_model_config("{oops", "config.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
    }
}
