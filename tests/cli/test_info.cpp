#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing.h"

using namespace dimple;

TEST(InfoCommand, CountsTheSharedGoldenModel) {
    const auto r = dtest::run_cli("info --json " + dtest::golden_dir() + "/model");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "dimple");
    // Counted from the goldens' params.txt: LM 2048*64*2 + 2 layers + norm; vision 4 blocks +
    // patch embed + merger; projector 2 linears.
    const int layer = 2 * 64 + (64 * 64 + 64) + 2 * (32 * 64 + 32) + 64 * 64 + 3 * 64 * 128;
    EXPECT_EQ(j["parameters"]["language model"]["count"], 2 * 2048 * 64 + 64 + 2 * layer);
    EXPECT_EQ(j["parameters"]["vision"]["count"],
              32 * 3 * 2 * 14 * 14 + 4 * (2 * 32 + 96 * 32 + 96 + 32 * 32 + 32 + 3 * 64 * 32 + 2 * 64 + 32) +
                  32 + 128 * 128 + 128 + 64 * 128 + 64);
    EXPECT_EQ(j["parameters"]["projector"]["count"], 2 * 64 * 64 + 2 * 64);
    EXPECT_EQ(j["parameters"]["total"], 449568);
    EXPECT_EQ(j["special_ids"]["mask"], 2008);
    EXPECT_EQ(j["parameters"]["vision"]["dtypes"][0], "BF16");
}

TEST(InfoCommand, BadFolderExitsTwoWithAMessage) {
    auto r = dtest::run_cli("info /nonexistent-model-dir");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("not a model folder"), std::string::npos) << r.out;
    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/config.json") << "{\"model_type\": \"dimple\"";
    r = dtest::run_cli("info " + dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("config.json: not valid JSON"), std::string::npos) << r.out;
}

TEST(InfoCommand, CorruptWeightsExitTwoNamingTheFile) {
    const std::string dir = dtest::temp_dir();
    for (auto f : {"config.json", "generation_config.json", "preprocessor_config.json"})
        std::filesystem::copy_file(dtest::golden_dir() + "/model/" + f, dir + "/" + f);
    std::ifstream in(dtest::golden_dir() + "/model/model.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/model.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    const auto r = dtest::run_cli("info " + dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("model.safetensors: tensor"), std::string::npos) << r.out;
}
