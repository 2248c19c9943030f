#include "core/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace dimple {

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) return std::nullopt;
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::optional<uint64_t> parse_u64(const std::string& text) {
    std::istringstream in(text);
    uint64_t v = 0;
    if (!(in >> v)) return std::nullopt;
    return v;
}

// The value of `key` in "key value" lines (memory.stat), or 0.
uint64_t stat_value(const std::string& stat, const std::string& key) {
    std::istringstream in(stat);
    std::string k;
    uint64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return 0;
}

// The cgroup (v2 unified, or v1 memory controller) this process lives in, from /proc/self/cgroup.
std::string own_cgroup(const std::string& proc_cgroup, bool v2) {
    std::istringstream in(proc_cgroup);
    for (std::string line; std::getline(in, line);) {
        const size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (v2 ? (line.compare(0, a, "0") == 0 && controllers.empty())
               : (controllers.find("memory") != std::string::npos))
            return path;
    }
    return "";
}

}  // namespace

std::optional<uint64_t> parse_mem_available(const std::string& meminfo) {
    std::istringstream in(meminfo);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream v(line.substr(13));
            uint64_t kib = 0;
            if (v >> kib) return kib * 1024;
        }
    return std::nullopt;
}

std::optional<uint64_t> cgroup_room(const std::string& limit, const std::string& usage, const std::string& stat) {
    auto lim = parse_u64(limit);
    const auto used = parse_u64(usage);
    // v1 also states the smallest limit of the cgroup's ancestors.
    if (const uint64_t h = stat_value(stat, "hierarchical_memory_limit"); lim && h) lim = std::min(*lim, h);
    if (!lim || !used || *lim >= (uint64_t(1) << 60)) return std::nullopt;  // "max" or v1's "unlimited"
    // v2 names the reclaimable cache inactive_file, v1 total_inactive_file.
    const uint64_t inactive = std::max(stat_value(stat, "inactive_file"), stat_value(stat, "total_inactive_file"));
    const uint64_t busy = *used > inactive ? *used - inactive : 0;
    return *lim > busy ? *lim - busy : 0;
}

namespace {

uint64_t status_kib(const char* field) {
    std::istringstream in(read_file("/proc/self/status").value_or(""));
    const size_t n = std::strlen(field);
    for (std::string line; std::getline(in, line);)
        if (line.compare(0, n, field) == 0) return parse_u64(line.substr(n)).value_or(0) * 1024;
    return 0;
}

}  // namespace

uint64_t resident_bytes() { return status_kib("VmRSS:"); }
uint64_t peak_resident_bytes() { return status_kib("VmHWM:"); }

AvailableMemory available_memory() {
    AvailableMemory a{~uint64_t(0), "no limit found"};
    if (const auto m = read_file("/proc/meminfo"))
        if (const auto v = parse_mem_available(*m)) a = {*v, "MemAvailable"};
    const std::string proc = read_file("/proc/self/cgroup").value_or("");
    struct Layout {
        bool v2;
        const char *root, *limit, *usage, *name;
    };
    for (const Layout& l : {Layout{true, "/sys/fs/cgroup", "memory.max", "memory.current", "cgroup v2 memory.max"},
                            Layout{true, "/sys/fs/cgroup/unified", "memory.max", "memory.current",
                                   "cgroup v2 memory.max"},  // hybrid hierarchies
                            Layout{false, "/sys/fs/cgroup/memory", "memory.limit_in_bytes",
                                   "memory.usage_in_bytes", "cgroup v1 memory.limit_in_bytes"}}) {
        const std::string own = own_cgroup(proc, l.v2);
        // Inside a container the cgroup's own folder is usually mounted as the root.
        for (const std::string& dir : {std::string(l.root) + own, std::string(l.root)}) {
            const auto lim = read_file(dir + "/" + l.limit), used = read_file(dir + "/" + l.usage);
            if (!lim || !used) continue;
            if (const auto room = cgroup_room(*lim, *used, read_file(dir + "/memory.stat").value_or(""));
                room && *room < a.bytes)
                a = {*room, l.name};
            break;
        }
    }
    return a;
}

uint64_t parse_byte_size(const std::string& text, const std::string& option) {
    double v = 0;
    size_t used = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        fail(option, ": '", text, "' is not a size (e.g. 16G, 512M, 1073741824)");
    }
    std::string unit = text.substr(used);
    if (unit.size() > 1 && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
    if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
    double mult = 1;
    if (unit == "K" || unit == "k") mult = 1024.0;
    else if (unit == "M" || unit == "m") mult = 1024.0 * 1024;
    else if (unit == "G" || unit == "g") mult = 1024.0 * 1024 * 1024;
    else if (unit == "T" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
    else check(unit.empty(), option, ": unknown unit in '", text, "' (use K, M, G or T)");
    check(std::isfinite(v) && v > 0 && v * mult < 1.8e19, option, ": '", text, "' is not a positive size");
    return uint64_t(v * mult);
}

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) b /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
    return buf;
}

}  // namespace dimple
