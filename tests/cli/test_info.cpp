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

// `dimple --version` and `dimple info` name the kernels the process runs; DIMPLE_CPU chooses them in
// a portable build and is refused by a native one, which has a single set (core/isa.h).
TEST(InfoCommand, NamesTheKernelsDimpleCpuChooses) {
    const std::string cli = dtest::cli_path();
    const std::string model = dtest::source_dir() + "/models/dimple-shapes";
    auto r = dtest::run_shell("DIMPLE_CPU=sse " + cli + " --version");
    EXPECT_EQ(r.exit_code, 2) << r.out;
#if defined(DIMPLE_PORTABLE)
    EXPECT_NE(r.out.find("DIMPLE_CPU=sse: expected avx2 or avx512"), std::string::npos) << r.out;
    r = dtest::run_shell("DIMPLE_CPU=avx2 " + cli + " --version");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("kernels avx2 (portable build"), std::string::npos) << r.out;
    r = dtest::run_shell("DIMPLE_CPU=avx2 " + cli + " info --json " + model);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["kernels"], "avx2");
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vl");
    r = dtest::run_shell("DIMPLE_CPU=avx512 " + cli + " --version");
    EXPECT_EQ(r.exit_code, avx512 ? 0 : 2) << r.out;
    EXPECT_NE(r.out.find(avx512 ? "kernels avx512 (portable build" : "this CPU lacks AVX-512"), std::string::npos)
        << r.out;
    r = dtest::run_shell(cli + " --version");
    EXPECT_NE(r.out.find(avx512 ? "kernels avx512 (" : "kernels avx2 ("), std::string::npos) << r.out;
#else
    EXPECT_NE(r.out.find("needs a portable build (cmake -DDIMPLE_NATIVE=OFF)"), std::string::npos) << r.out;
    r = dtest::run_shell(cli + " --version");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("kernels native (built for the build machine's CPU"), std::string::npos) << r.out;
    r = dtest::run_cli("info --json " + model);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["kernels"], "native");
#endif
}
