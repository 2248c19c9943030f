// Memory planning and int8 as the CLI shows them: what `auto` chose on stderr, the failure before
// loading (exit 2 with the figures), and `dimple quantize` feeding `dimple run`.
#include <gtest/gtest.h>

#include <filesystem>

#include "testing.h"

namespace {

std::string golden_model() { return dtest::golden_dir() + "/model"; }

}  // namespace

TEST(MemoryCli, AutoSaysWhatItPickedAndWhy) {
    const auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids 5,6,7 -n 4 -s 2 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("dimple: compute "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(auto: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" available ("), std::string::npos) << r.out;
}

TEST(MemoryCli, FailsBeforeLoadingWhenNothingFits) {
    auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids 5,6,7 --memory-limit 1M");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("needs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1.00 MiB available (--memory-limit)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no compute mode fits"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("bad_alloc"), std::string::npos) << r.out;
    // Room for int8 but not for f32: the message names the option that fits.
    const std::string f32 = "run --model " + golden_model() + " --prompt-ids 5,6,7 --compute f32 --memory-limit ";
    r = dtest::run_cli(f32 + "1M");
    const size_t at = r.out.find("--compute f32 needs ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const double needs_mib = std::stod(r.out.substr(at + 20));  // "59.96 MiB for ..."
    ASSERT_NE(r.out.find(" MiB for the weights", at), std::string::npos) << r.out;
    r = dtest::run_cli(f32 + std::to_string(needs_mib - 0.01) + "M");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("--compute f32 needs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--compute int8 ("), std::string::npos) << r.out;
    r = dtest::run_cli(f32 + std::to_string(needs_mib + 0.01) + "M -n 4 -s 2");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids 5 --memory-limit lots");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("--memory-limit: 'lots' is not a size"), std::string::npos) << r.out;
}

// The working memory is sized for the largest prompt the command takes (--max-prompt-tokens): a
// longer one is refused with the figure, not run past what the plan said would fit.
TEST(MemoryCli, TheWorkingMemoryFollowsThePromptLimit) {
    const std::string run = "run --model " + golden_model() + " --prompt-ids 5,6,7,8 -n 4 -s 2 --compute f32 ";
    auto needs = [&](const std::string& extra) {
        const auto r = dtest::run_cli(run + extra + " --memory-limit 1M");
        const size_t at = r.out.find("needs ");
        return at == std::string::npos ? -1.0 : std::stod(r.out.substr(at + 6));
    };
    EXPECT_LT(needs("--max-prompt-tokens 64"), needs("--max-prompt-tokens 4096"));
    auto r = dtest::run_cli(run + "--max-prompt-tokens 3");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("the prompt has 4 tokens (image tokens included), more than the 3"), std::string::npos) << r.out;
    r = dtest::run_cli(run + "--max-prompt-tokens 4");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = dtest::run_cli("info " + golden_model());
    EXPECT_NE(r.out.find("working "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("a prompt of up to 4096 tokens"), std::string::npos) << r.out;
}

TEST(MemoryCli, QuantizedFolderRunsInt8) {
    const std::string out = dtest::temp_dir() + "/q";
    auto r = dtest::run_cli("quantize --model " + golden_model() + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = dtest::run_cli("run --model " + out + " --prompt-ids 5,6,7 -n 4 -s 2 --temperature 0 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("(auto: the checkpoint is int8)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"compute\":\"int8\""), std::string::npos) << r.out;
    // The same answer as quantizing the bf16 folder at load.
    const auto direct = dtest::run_cli("run --model " + golden_model() + " --prompt-ids 5,6,7 -n 4 -s 2 --temperature 0 "
                                       "--json --compute int8");
    ASSERT_EQ(direct.exit_code, 0) << direct.out;
    const auto answer = [](const std::string& s) { return s.substr(s.find("\"answer_ids\""), 60); };
    EXPECT_EQ(answer(r.out), answer(direct.out));
    r = dtest::run_cli("quantize --model " + out + " --out " + dtest::temp_dir() + "/qq");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("already quantized"), std::string::npos) << r.out;

    // --packed: the int8 folder gains this machine's layout and answers the same from it.
    r = dtest::run_cli("quantize --model " + out + " --packed");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("model.packed: "), std::string::npos) << r.out;
    const auto packed = dtest::run_cli("run --model " + out + " --prompt-ids 5,6,7 -n 4 -s 2 --temperature 0 --json");
    ASSERT_EQ(packed.exit_code, 0) << packed.out;
    EXPECT_EQ(answer(packed.out), answer(direct.out));
    // A damaged one is refused by name; a float folder cannot have one.
    std::filesystem::resize_file(out + "/model.packed", 100);
    r = dtest::run_cli("run --model " + out + " --prompt-ids 5,6,7 -n 4 -s 2 --json");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("model.packed: not a whole packed-weights file"), std::string::npos) << r.out;
    r = dtest::run_cli("quantize --model " + golden_model() + " --packed");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("needs an int8 folder"), std::string::npos) << r.out;
}


// Without the user's say, the binary runs with passive OpenMP waiting (it re-executes itself with
// OMP_WAIT_POLICY=passive before libgomp loads); a user's own setting is kept.
TEST(OpenMpPolicy, PassiveUnlessTheUserSaysOtherwise) {
    const std::string args = " run --model " + golden_model() + " --prompt-ids 5,6,7 -n 2 -s 1 --compute f32 --json";
    auto r = dtest::run_shell("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT " + dtest::cli_path() + args);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("\"omp_wait_policy\":\"passive\""), std::string::npos) << r.out;
    r = dtest::run_shell("OMP_WAIT_POLICY=active " + dtest::cli_path() + args);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("\"omp_wait_policy\":\"active\""), std::string::npos) << r.out;
}
