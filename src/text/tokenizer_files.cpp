#include "text/tokenizer_files.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/config.h"
#include "text/json_file.h"
#include "text/pretokenizer.h"

namespace dimple::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxId = int64_t(1) << 24;  // far above any real vocabulary; bounds allocation

int32_t vocab_id(const json& id, const std::string& text, const std::string& label) {
    check(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < kMaxId, label,
          ": vocab entry \"", text, "\" has no valid id");
    return id.get<int32_t>();
}

bool flag(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

// One added token, as tokenizer.json's added_tokens and tokenizer_config.json's
// added_tokens_decoder both write it.
TokenizerFiles::Added parse_added(const json& j, int64_t id, const std::string& label) {
    check(j.is_object() && j.contains("content") && j["content"].is_string(), label,
          ": added token ", id, " has no \"content\" string");
    check(id >= 0 && id < kMaxId, label, ": added token id ", id, " is out of range");
    TokenizerFiles::Added a{int32_t(id), j["content"].get<std::string>(), flag(j, "special")};
    check(!a.content.empty(), label, ": added token ", id, " is empty");
    // Qwen2-family tokens never set these; honouring them would need whitespace stripping around
    // matches, so refuse rather than tokenize differently from Hugging Face.
    for (const char* k : {"lstrip", "rstrip", "single_word"})
        check(!flag(j, k), label, ": added token \"", a.content, "\" sets ", k, ", which is not supported");
    return a;
}

bool has_qwen2_split(const json& pre) {
    if (!pre.is_object()) return false;
    if (pre.value("type", "") == "Sequence" && pre.contains("pretokenizers"))
        for (const json& p : pre["pretokenizers"])
            if (has_qwen2_split(p)) return true;
    return pre.value("type", "") == "Split" && pre.contains("pattern") && pre["pattern"].is_object() &&
           pre["pattern"].value("Regex", "") == kQwen2Pattern;
}

void read_tokenizer_json(const std::string& path, TokenizerFiles& f) {
    const json j = read_json_file(path);
    check(j.is_object() && j.contains("model") && j["model"].is_object(), path, ": no \"model\" object");
    const json& model = j["model"];
    check(model.value("type", "BPE") == "BPE", path, ": model type \"", model.value("type", ""),
          "\" is not BPE; only the Qwen2 byte-level BPE tokenizer is supported");
    check(j.contains("normalizer") && j["normalizer"].is_object() && j["normalizer"].value("type", "") == "NFC",
          path, ": the normalizer is not NFC, so this is not a Qwen2 tokenizer");
    check(j.contains("pre_tokenizer") && has_qwen2_split(j["pre_tokenizer"]), path,
          ": the pre-tokenizer is not the Qwen2 regex split, so this is not a Qwen2 tokenizer");
    check(model.contains("vocab") && model["vocab"].is_object(), path, ": model has no \"vocab\" object");
    check(model.contains("merges") && model["merges"].is_array(), path, ": model has no \"merges\" list");
    for (auto& [text, id] : model["vocab"].items()) f.vocab.emplace_back(text, vocab_id(id, text, path));
    // Merges are "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs (which allow spaces).
    for (const json& m : model["merges"]) {
        if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            f.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            continue;
        }
        check(m.is_string(), path, ": merge ", f.merges.size(), " is neither \"a b\" nor [\"a\", \"b\"]");
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ');
        check(sp != std::string::npos && s.find(' ', sp + 1) == std::string::npos, path, ": merge \"", s,
              "\" is not two tokens separated by one space");
        f.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    }
    if (j.contains("added_tokens") && j["added_tokens"].is_array())
        for (const json& a : j["added_tokens"])
            f.added.push_back(parse_added(a, a.value("id", int64_t(-1)), path));
}

void read_vocab_and_merges(const std::string& vocab_path, const std::string& merges_path, TokenizerFiles& f) {
    const json vocab = read_json_file(vocab_path);
    check(vocab.is_object(), vocab_path, ": expected a JSON object of token -> id");
    for (auto& [text, id] : vocab.items()) f.vocab.emplace_back(text, vocab_id(id, text, vocab_path));
    std::istringstream in(read_text_file(merges_path));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (n == 1 && line.rfind("#version", 0) == 0)) continue;
        const size_t sp = line.find(' ');
        check(sp != std::string::npos && sp > 0 && sp + 1 < line.size() &&
                  line.find(' ', sp + 1) == std::string::npos,
              merges_path, ":", n, ": expected two tokens separated by one space");
        f.merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
}

// tokenizer_config.json's added_tokens_decoder: the slow form's only source of added tokens, and
// for the fast form a place where a fine-tuned checkpoint may add more (Dream's <|mask|>).
void read_config_added(const std::string& path, TokenizerFiles& f) {
    const json j = read_json_file(path);
    if (!j.is_object() || !j.contains("added_tokens_decoder")) return;
    check(j["added_tokens_decoder"].is_object(), path, ": \"added_tokens_decoder\" is not an object");
    std::map<int32_t, std::string> known;
    for (const auto& a : f.added) known[a.id] = a.content;
    for (auto& [key, value] : j["added_tokens_decoder"].items()) {
        int64_t id = -1;
        try {
            size_t used = 0;
            id = std::stoll(key, &used);
            check(used == key.size(), path, ": added token key \"", key, "\" is not an id");
        } catch (const std::logic_error&) {
            fail(path, ": added token key \"", key, "\" is not an id");
        }
        TokenizerFiles::Added a = parse_added(value, id, path);
        auto it = known.find(a.id);
        if (it != known.end()) {
            check(it->second == a.content, path, ": added token ", a.id, " is \"", a.content,
                  "\" here but \"", it->second, "\" in tokenizer.json");
            continue;
        }
        known[a.id] = a.content;
        f.added.push_back(std::move(a));
    }
}

}  // namespace

TokenizerFiles read_tokenizer_files(const std::string& dir) {
    TokenizerFiles f;
    const std::string fast = dir + "/tokenizer.json", vocab = dir + "/vocab.json", merges = dir + "/merges.txt",
                      config = dir + "/tokenizer_config.json";
    if (fs::is_regular_file(fast)) {
        read_tokenizer_json(fast, f);
        f.source = fast;
    } else if (fs::is_regular_file(vocab) && fs::is_regular_file(merges)) {
        read_vocab_and_merges(vocab, merges, f);
        f.source = vocab + " + " + merges;
    } else {
        fail(dir, ": no tokenizer here (expected tokenizer.json, or vocab.json and merges.txt)");
    }
    if (fs::is_regular_file(config)) read_config_added(config, f);
    return f;
}

}  // namespace dimple::text
