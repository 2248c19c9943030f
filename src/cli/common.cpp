#include "cli/common.h"

#include <charconv>

#include "core/error.h"
#include "core/memory.h"

namespace dimple::cli {

void add_model_options(CLI::App* cmd, ModelOptions& o) {
    cmd->add_option("-m,--model", o.dir, "Model folder (Hugging Face layout)")->required();
    cmd->add_option("--compute", o.compute,
                    "f32 (exact) | bf16 | int8 (fastest, smallest) | auto (the fastest that fits in memory)")
        ->capture_default_str();
    cmd->add_option("--memory-limit", o.memory_limit,
                    "Memory the model may use, e.g. 12G (default: what the machine and cgroup have available)");
    cmd->add_option("--threads", o.threads, "Threads (0: all cores)")->capture_default_str();
    cmd->add_option("--chat-template", o.chat_template, "Force a chat template family: qwen2 | qwen2-vl");
}

EngineOptions engine_options(const ModelOptions& o) {
    EngineOptions e;
    e.compute = parse_compute(o.compute);
    if (!o.memory_limit.empty()) e.memory_limit = parse_byte_size(o.memory_limit, "--memory-limit");
    e.chat_template = o.chat_template;
    return e;
}

std::vector<int64_t> parse_id_list(const std::string& s, const std::string& option) {
    std::vector<int64_t> ids;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        int64_t v = 0;
        const auto r = std::from_chars(s.data() + start, s.data() + end, v);
        check(r.ec == std::errc() && r.ptr == s.data() + end && end > start, option, ": '",
              s.substr(start, end - start), "' is not an integer id");
        ids.push_back(v);
        start = end + 1;
    }
    return ids;
}

}  // namespace dimple::cli
