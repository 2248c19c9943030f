#include "text/tokenizer_files.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/config.h"
#include "text/json_file.h"

namespace dimple::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxId = int64_t(1) << 24;  // far above any real vocabulary; bounds allocation

int32_t vocab_id(const json& id, const std::string& text, const std::string& label) {
    check(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < kMaxId, label, ": vocab entry \"",
          text, "\" has no valid id");
    return id.get<int32_t>();
}

bool flag(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

// One added token, as tokenizer.json's added_tokens and tokenizer_config.json's
// added_tokens_decoder both write it.
TokenizerFiles::Added parse_added(const json& j, int64_t id, const std::string& label) {
    check(j.is_object() && j.contains("content") && j["content"].is_string(), label, ": added token ", id,
          " has no \"content\" string");
    check(id >= 0 && id < kMaxId, label, ": added token id ", id, " is out of range");
    TokenizerFiles::Added a{int32_t(id), j["content"].get<std::string>(), flag(j, "special")};
    check(!a.content.empty(), label, ": added token ", id, " is empty");
    a.single_word = flag(j, "single_word");
    a.lstrip = flag(j, "lstrip");
    a.rstrip = flag(j, "rstrip");
    // Hugging Face's default: special tokens are matched as written, others after normalization.
    a.normalized = j.contains("normalized") && j["normalized"].is_boolean() ? j["normalized"].get<bool>() : !a.special;
    return a;
}

// The ids the post-processor puts before and after a single text when special tokens are added.
void read_post_processor(const json& p, const std::string& path, TokenizerFiles& f) {
    if (p.is_null()) return;
    check(p.is_object() && p.contains("type") && p["type"].is_string(), path, ": the post-processor has no \"type\"");
    const std::string type = p["type"].get<std::string>();
    std::vector<int32_t> prefix, suffix;
    if (type == "Sequence") {
        check(p.contains("processors") && p["processors"].is_array(), path,
              ": a Sequence post-processor has no \"processors\" list");
        for (const json& sub : p["processors"]) read_post_processor(sub, path, f);
        return;
    } else if (type == "TemplateProcessing") {
        check(p.contains("single") && p["single"].is_array(), path, ": TemplateProcessing has no \"single\" template");
        const json specials = p.value("special_tokens", json::object());
        bool after = false;
        for (const json& item : p["single"]) {
            if (item.contains("Sequence")) {
                after = true;
                continue;
            }
            const std::string name = item.contains("SpecialToken") ? item["SpecialToken"].value("id", "") : "";
            check(specials.contains(name) && specials[name].contains("ids") && specials[name]["ids"].is_array(), path,
                  ": TemplateProcessing's special token \"", name, "\" has no ids");
            for (const json& id : specials[name]["ids"]) (after ? suffix : prefix).push_back(vocab_id(id, name, path));
        }
    } else if (type == "BertProcessing" || type == "RobertaProcessing") {
        for (const char* k : {"cls", "sep"}) {
            check(p.contains(k) && p[k].is_array() && p[k].size() == 2, path, ": ", type, " has no \"", k, "\" pair");
            (k[0] == 'c' ? prefix : suffix).push_back(vocab_id(p[k][1], k, path));
        }
    } else if (type != "ByteLevel") {
        fail(path, ": the post-processor \"", type,
             "\" is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
             "Sequence)");
    }
    // A later processor wraps what the earlier ones made.
    f.prefix_ids.insert(f.prefix_ids.begin(), prefix.begin(), prefix.end());
    f.suffix_ids.insert(f.suffix_ids.end(), suffix.begin(), suffix.end());
}

void read_model(const json& model, const std::string& path, TokenizerFiles& f) {
    check(model.value("type", "BPE") == "BPE", path, ": the model \"", model.value("type", ""),
          "\" is not supported (only BPE)");
    check(!model.contains("dropout") || model["dropout"].is_null() ||
              (model["dropout"].is_number() && model["dropout"].get<double>() == 0),
          path, ": BPE dropout (random tokenization) is not supported");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
        check(!model.contains(k) || model[k].is_null() || (model[k].is_string() && model[k].get<std::string>().empty()),
              path, ": the BPE model's ", k, " is not supported");
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
    f.byte_fallback = flag(model, "byte_fallback");
    f.ignore_merges = flag(model, "ignore_merges");
    f.fuse_unk = flag(model, "fuse_unk");
    if (model.contains("unk_token") && model["unk_token"].is_string())
        f.unk_token = model["unk_token"].get<std::string>();
}

void read_tokenizer_json(const std::string& path, TokenizerFiles& f) {
    const json j = read_json_file(path);
    check(j.is_object() && j.contains("model") && j["model"].is_object(), path, ": no \"model\" object");
    read_model(j["model"], path, f);
    f.normalizer = Normalizer::from_json(j.value("normalizer", json()), path);
    f.pretokenizer = PreTokenizer::from_json(j.value("pre_tokenizer", json()), path);
    f.decoder = Decoder::from_json(j.value("decoder", json()), path);
    read_post_processor(j.value("post_processor", json()), path, f);
    if (j.contains("added_tokens") && j["added_tokens"].is_array())
        for (const json& a : j["added_tokens"]) f.added.push_back(parse_added(a, a.value("id", int64_t(-1)), path));
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
        check(sp != std::string::npos && sp > 0 && sp + 1 < line.size() && line.find(' ', sp + 1) == std::string::npos,
              merges_path, ":", n, ": expected two tokens separated by one space");
        f.merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
}

// tokenizer_config.json's added_tokens_decoder: the slow form's only source of added tokens, and
// for the fast form a place where a fine-tuned checkpoint may add more (Dream's <|mask|>); and its
// clean_up_tokenization_spaces.
void read_config_added(const std::string& path, TokenizerFiles& f) {
    const json j = read_json_file(path);
    if (j.is_object() && j.contains("clean_up_tokenization_spaces") && j["clean_up_tokenization_spaces"].is_boolean())
        f.clean_up_spaces = j["clean_up_tokenization_spaces"].get<bool>();
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
            check(it->second == a.content, path, ": added token ", a.id, " is \"", a.content, "\" here but \"",
                  it->second, "\" in tokenizer.json");
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
        // The pipeline Hugging Face's conversion of a slow Qwen2 tokenizer gives.
        f.normalizer = Normalizer::nfc();
        f.pretokenizer = PreTokenizer();
        f.decoder = Decoder();
    } else {
        fail(dir, ": no tokenizer here (expected tokenizer.json, or vocab.json and merges.txt)");
    }
    if (fs::is_regular_file(config)) read_config_added(config, f);
    return f;
}

}  // namespace dimple::text
