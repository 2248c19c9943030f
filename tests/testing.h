// Helpers shared by the tests: where data lives, and array comparison with stated tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace dtest {

using namespace dimple;

// ../shared next to the checkout (or $DIMPLE_SHARED_DIR); empty when absent.
std::string shared_dir();
// tiny-a golden folder, or skips the calling test when the shared data is absent.
std::string golden_dir();
std::string source_dir();
// Golden sets in tiny-a's format: the shared one (the original implementation's outputs) and the
// ones the project's PyTorch reference writes before the tests (tools/make_test_goldens.sh).
const std::vector<std::string>& golden_sets();
// A golden set's name as a test-name part ("ref-b" -> "ref_b").
std::string identifier(std::string name);
struct GoldenSetName {
    std::string operator()(const ::testing::TestParamInfo<std::string>& p) const { return identifier(p.param); }
};
// The folder of a golden set, or "" when it is absent.
std::string golden_set_dir(const std::string& name);
// A fresh empty temporary folder, removed at process exit.
std::string temp_dir();

// Checks |a - b| <= atol + rtol*|b| elementwise (shapes must match); reports the worst element.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol, double rtol);
::testing::AssertionResult all_equal(const Tensor& a, const Tensor& b);

}  // namespace dtest

// Skips (or, under CI, fails) a test whose golden set is absent; defines `dir`.
#define DIMPLE_GOLDEN_SET_DIR(dir, name)                                                 \
    const std::string dir = ::dtest::golden_set_dir(name);                              \
    if (dir.empty()) {                                                                   \
        if (std::getenv("CI") && std::string(name) != "tiny-a")                          \
            FAIL() << "golden set " << name << " is missing (tools/make_test_goldens.sh)"; \
        GTEST_SKIP() << "golden set " << name << " is absent";                           \
    }

#define DIMPLE_REQUIRE_SHARED()                                              \
    do {                                                                     \
        if (::dtest::shared_dir().empty())                         \
            GTEST_SKIP() << "../shared is absent: shared-golden test skipped"; \
    } while (0)

namespace dtest {

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout and stderr together
};
// The built CLI ($DIMPLE_CLI overrides).
std::string cli_path();
// Runs `dimple ARGS` (the built CLI) through the shell and captures its output.
CommandResult run_cli(const std::string& args);
// Runs a shell command line and captures its output.
CommandResult run_shell(const std::string& command);

}  // namespace dtest

namespace dtest {
// max |a - b| over all elements (shapes must match).
double max_abs_diff(const dimple::Tensor& a, const dimple::Tensor& b);
}  // namespace dtest
