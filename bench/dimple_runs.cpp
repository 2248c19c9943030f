#include "dimple_runs.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace dimple::bench {

namespace fs = std::filesystem;
using nlohmann::json;

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string shell_quoted(const std::string& s) { return "'" + s + "'"; }

uint64_t folder_weight_bytes(const fs::path& dir) {
    uint64_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".safetensors") n += e.file_size();
    return n;
}

Measured measure(const std::string& dimple, const std::string& args) {
    const fs::path tmp = fs::temp_directory_path();
    const std::string time_file = (tmp / "bench_dimple_run.time").string(), err_file = (tmp / "bench_dimple_run.err").string();
    const std::string cmd = "/usr/bin/time -v -o " + time_file + " " + shell_quoted(dimple) + " " + args + " 2>" + err_file;
    std::printf("$ dimple %s\n", args.c_str());
    std::fflush(stdout);
    Measured m;
    const double t0 = now();
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[65536];
    size_t n;
    while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = p ? pclose(p) : -1;
    m.rc = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    m.wall_s = now() - t0;
    std::stringstream err, time_text;
    err << std::ifstream(err_file).rdbuf();
    time_text << std::ifstream(time_file).rdbuf();
    m.stderr_ = err.str();
    const std::string key = "Maximum resident set size (kbytes): ";
    const size_t at = time_text.str().find(key);
    if (at != std::string::npos) m.peak_rss_gib = std::atof(time_text.str().c_str() + at + key.size()) / (1 << 20);
    if (!out.empty() && out.front() == '{') m.out = json::parse(out, nullptr, false);
    if (m.rc != 0) std::printf("  exit status %d; stderr:\n%s\n", m.rc, m.stderr_.c_str());
    return m;
}

std::string plan_line(const std::string& err) {
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("dimple: compute ", 0) == 0) return line.substr(8);
    return "";
}

StepTimes step_times(const json& run) {
    const std::vector<double> s = run["timing"]["step_s"];
    StepTimes t;
    if (!s.empty()) t.first = s[0];
    for (size_t i = 1; i < s.size(); ++i) t.later += s[i] / double(s.size() - 1);
    return t;
}

std::string default_dimple_binary() {
    return (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "dimple").string();
}

void write_pattern_bmp(const std::string& path, int w, int h) {
    const int stride = (3 * w + 3) / 4 * 4;  // rows bottom-up, each padded to 4 bytes
    const uint32_t size = uint32_t(54 + stride * h);
    std::vector<uint8_t> b(size, 0);
    auto put32 = [&](size_t at, uint32_t v) { for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i)); };
    b[0] = 'B', b[1] = 'M';
    put32(2, size), put32(10, 54), put32(14, 40), put32(18, uint32_t(w)), put32(22, uint32_t(h));
    b[26] = 1, b[28] = 24;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t* p = &b[54 + size_t(h - 1 - y) * size_t(stride) + 3 * size_t(x)];
            p[0] = uint8_t(x * 255 / w), p[1] = uint8_t(y * 255 / h), p[2] = uint8_t((x ^ y) & 255);
        }
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace dimple::bench
