// Without --model, `dimple run`, `eval` and `serve` load the shipped model models/dimple-shapes:
// from $DIMPLE_DEFAULT_MODEL, beside the executable (<exe dir>/../models), or in the source tree.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat_model.h"
#include "testing.h"
#include "text/reference.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kRun = "run --prompt 'Name a colour.' -n 4 -s 4 --temperature 0 --compute f32 --json 2>&1";

// Sets an environment variable for the commands this test runs, and restores it after.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) old = v;
        setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() { old ? setenv(name.c_str(), old->c_str(), 1) : unsetenv(name.c_str()); }
};

}  // namespace

TEST(DefaultModel, TheEnvironmentVariableNamesIt) {
    DIMPLE_REQUIRE_NPM();
    const std::string model = dtest::chat_model_dir();
    const auto given = dtest::run_cli(kRun + " --model " + model);
    ASSERT_EQ(given.exit_code, 0) << given.out;
    ScopedEnv env("DIMPLE_DEFAULT_MODEL", model);
    const auto r = dtest::run_cli(kRun);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["answer_ids"], json::parse(given.out)["answer_ids"]);
}

TEST(DefaultModel, ServeUsesItToo) {
    DIMPLE_REQUIRE_NPM();
    const std::string model = dtest::chat_model_dir();
    ScopedEnv env("DIMPLE_DEFAULT_MODEL", model);
    // Started in the background until it listens (or exits), then stopped with SIGINT.
    const auto r = dtest::run_shell(
        "out=$(mktemp); " + dtest::cli_path() + " serve --host 127.0.0.1 --port 0 --compute f32 >$out 2>&1 & pid=$!; "
        "for i in $(seq 1200); do grep -q listening $out && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done; "
        "kill -INT $pid 2>/dev/null; wait $pid; echo \"exit $?\"; cat $out; rm -f $out");
    EXPECT_NE(r.out.find("exit 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("serving " + fs::path(model).filename().string() + " "), std::string::npos) << r.out;
}

TEST(DefaultModel, FoundBesideTheExecutable) {
    DIMPLE_REQUIRE_NPM();
    // A copy of the executable in DIR/bin finds DIR/models/dimple-shapes.
    const std::string dir = dtest::temp_dir();
    fs::create_directories(dir + "/bin");
    fs::create_directories(dir + "/models");
    fs::copy_file(dtest::cli_path(), dir + "/bin/dimple");
    fs::create_directory_symlink(dtest::chat_model_dir(), dir + "/models/dimple-shapes");
    ScopedEnv cli("DIMPLE_CLI", dir + "/bin/dimple");
    const auto r = dtest::run_cli(kRun);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["answer_ids"].size(), 4u);
}

TEST(DefaultModel, AbsentModelIsAnErrorNamingThePlacesTried) {
    {
        ScopedEnv env("DIMPLE_DEFAULT_MODEL", "/nonexistent/dimple-shapes");
        for (const std::string& cmd : {kRun, std::string("eval --data /nonexistent.jsonl"), std::string("serve --port 0")}) {
            const auto r = dtest::run_cli(cmd);
            EXPECT_EQ(r.exit_code, 2) << r.out;
            EXPECT_NE(r.out.find("/nonexistent/dimple-shapes"), std::string::npos) << r.out;
            EXPECT_NE(r.out.find("--model"), std::string::npos) << r.out;
        }
    }
    // Without the variable: beside the executable, then the source tree (absent here until the
    // model is committed, and never beside a copy in a fresh folder).
    if (fs::exists(dtest::source_dir() + "/models/dimple-shapes/config.json")) return;
    const std::string dir = dtest::temp_dir();
    fs::create_directories(dir + "/bin");
    fs::copy_file(dtest::cli_path(), dir + "/bin/dimple");
    ScopedEnv cli("DIMPLE_CLI", dir + "/bin/dimple");
    const auto r = dtest::run_cli(kRun);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find(dir + "/models/dimple-shapes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(fs::path(dtest::source_dir()).lexically_normal().string() + "/models/dimple-shapes"),
              std::string::npos)
        << r.out;
}
