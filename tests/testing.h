// Helpers shared by the tests: where data lives, and array comparison with stated tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace dtest {

using namespace dimple;

std::string source_dir();
// The original implementation's golden set tiny-a, carried in the repository (tests/goldens/tiny-a,
// copied from the shared goldens by tools/import_shared_goldens.sh).
std::string golden_dir();
// The real photos the goldens were made from (tests/data/images).
std::string images_dir();
// Golden sets in tiny-a's format: tiny-a (the original implementation's outputs) and the
// ones the project's PyTorch reference writes before the tests (tools/make_test_goldens.sh).
const std::vector<std::string>& golden_sets();
// The sets whose model has a vision tower (all but ref-c, a text-only Dream).
const std::vector<std::string>& image_golden_sets();
// A golden set's name as a test-name part ("ref-b" -> "ref_b").
std::string identifier(std::string name);
struct GoldenSetName {
    std::string operator()(const ::testing::TestParamInfo<std::string>& p) const { return identifier(p.param); }
};
// The folder of a golden set, or "" when it is absent.
std::string golden_set_dir(const std::string& name);
// Where tools/make_test_goldens.sh writes (DIMPLE_GOLDENS_DIR overrides the build's folder).
std::string reference_goldens_dir();
// A fresh empty temporary folder, removed at process exit.
std::string temp_dir();

// Checks |a - b| <= atol + rtol*|b| elementwise (shapes must match); reports the worst element.
::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol, double rtol);
::testing::AssertionResult all_equal(const Tensor& a, const Tensor& b);

}  // namespace dtest

// Fails a test whose golden set is absent (the reference sets are written before the tests by
// tools/make_test_goldens.sh); defines `dir`.
#define DIMPLE_GOLDEN_SET_DIR(dir, name)                                                     \
    const std::string dir = ::dtest::golden_set_dir(name);                                  \
    if (dir.empty()) FAIL() << "golden set " << name << " is missing (tools/make_test_goldens.sh)";

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
