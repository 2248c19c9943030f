#include "testing.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sys/wait.h>
#include <mutex>
#include <vector>

namespace dtest {

namespace fs = std::filesystem;

static std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string source_dir() { return env_or("DIMPLE_SOURCE_DIR", DIMPLE_SOURCE_DIR_PATH); }

std::string golden_dir() { return source_dir() + "/tests/goldens/tiny-a"; }

std::string images_dir() { return source_dir() + "/tests/data/images"; }

const std::vector<std::string>& golden_sets() {
    static const std::vector<std::string> names = {"tiny-a", "ref-b", "ref-c", "ref-d"};
    return names;
}

const std::vector<std::string>& image_golden_sets() {
    static const std::vector<std::string> names = {"tiny-a", "ref-b", "ref-d"};
    return names;
}

std::string identifier(std::string name) {
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

std::string reference_goldens_dir() { return env_or("DIMPLE_GOLDENS_DIR", DIMPLE_GOLDENS_DIR_PATH); }

std::string golden_set_dir(const std::string& name) {
    if (name == "tiny-a") return golden_dir();
    const std::string d = reference_goldens_dir() + "/" + name;
    return fs::exists(d + "/generation.json") ? d : std::string();
}

std::string temp_dir() {
    static std::vector<std::string> made;
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    std::string tmpl = (fs::temp_directory_path() / "dimple-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    if (made.empty())
        std::atexit([] {
            for (auto& d : made) fs::remove_all(d);
        });
    made.push_back(p);
    return p;
}

static double value_at(const Tensor& t, int64_t i) {
    switch (t.dtype()) {
        case DType::F32: return t.data<float>()[i];
        case DType::I64: return double(t.data<int64_t>()[i]);
        case DType::I32: return t.data<int32_t>()[i];
        case DType::U8: return t.data<uint8_t>()[i];
        default: return NAN;
    }
}

::testing::AssertionResult all_close(const Tensor& a, const Tensor& b, double atol, double rtol) {
    if (a.shape() != b.shape())
        return ::testing::AssertionFailure()
               << "shape " << shape_str(a.shape()) << " != " << shape_str(b.shape());
    int64_t bad = 0, worst_i = -1;
    double worst = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = value_at(a, i), y = value_at(b, i);
        const double excess = std::abs(x - y) - (atol + rtol * std::abs(y));
        if (!(excess <= 0)) {
            ++bad;
            if (worst_i < 0 || excess > worst || std::isnan(excess)) worst = excess, worst_i = i;
        }
    }
    if (bad == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << bad << " of " << a.numel() << " elements out of tolerance (atol " << atol << ", rtol "
           << rtol << "); worst at flat index " << worst_i << ": " << value_at(a, worst_i)
           << " vs " << value_at(b, worst_i);
}

::testing::AssertionResult all_equal(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype())
        return ::testing::AssertionFailure() << "dtype " << dtype_name(a.dtype()) << " != "
                                             << dtype_name(b.dtype());
    if (a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0)
        return ::testing::AssertionSuccess();
    return all_close(a, b, 0, 0);
}

}  // namespace dtest

namespace dtest {

std::string cli_path() { return env_or("DIMPLE_CLI", DIMPLE_CLI_PATH); }

CommandResult run_cli(const std::string& args) { return run_shell(cli_path() + " " + args); }

CommandResult run_shell(const std::string& command) {
    const std::string cmd = command + " 2>&1";
    CommandResult r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace dtest

namespace dtest {

double max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.numel() != b.numel()) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(value_at(a, i) - value_at(b, i)));
    return m;
}

}  // namespace dtest
