// `dimple tokenize --model DIR`: text to token ids (or back with --decode), for checking prompts
// and for scripts. DIR is a model folder or a folder holding only the tokenizer files.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "core/error.h"
#include "io/llava_config.h"
#include "text/chat_template.h"
#include "text/image_tokens.h"
#include "text/tokenizer.h"

namespace dimple::cli {

namespace {

using nlohmann::json;

struct Options {
    std::string model_dir;
    std::string text;
    bool has_text = false;
    bool decode = false, jsonl = false, chat = false, skip_special = false;
    std::string chat_template;
    int images = 0;
};

void put(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);  // a script may be reading line by line as it writes
}

std::vector<int32_t> parse_ids(const std::string& s, const std::string& where) {
    json j;
    try {
        j = json::parse(s);
    } catch (const json::exception&) {
        fail(where, ": not a JSON array of token ids");
    }
    check(j.is_array(), where, ": not a JSON array of token ids");
    std::vector<int32_t> ids;
    for (const json& v : j) {
        check(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= INT32_MAX, where,
              ": ", v.dump(), " is not a token id");
        ids.push_back(v.get<int32_t>());
    }
    return ids;
}

void run_tokenize(const Options& o) {
    const text::Tokenizer tok = text::Tokenizer::load(o.model_dir);
    std::optional<text::ChatTemplateKind> chat;
    if (o.chat) chat = text::resolve_chat_template(o.model_dir, o.chat_template);
    auto prompt = [&](const std::string& s) {
        return chat ? text::render_chat({{"user", s, o.images}}, true, *chat) : s;
    };
    // LLaDA-V's prompt is tokenized around its "<image>" markers, each becoming LLaVA's image id
    // (-200), as the engine does (Engine::chat_ids).
    auto encode = [&](const std::string& s) -> json {
        if (chat == text::ChatTemplateKind::LladaV)
            return text::tokenize_with_images(tok, prompt(s), text::kLladaImageMarker, kLlavaImageId,
                                              tok.token_id("<|startoftext|>"), SIZE_MAX);
        return tok.encode(prompt(s));
    };

    if (!o.jsonl) {
        const std::string input =
            o.has_text ? o.text : std::string(std::istreambuf_iterator<char>(std::cin), {});
        if (o.decode)
            put(tok.decode(parse_ids(input, o.has_text ? "--text" : "stdin"), o.skip_special));
        else
            put(encode(input).dump() + "\n");
        return;
    }
    check(!o.has_text, "--jsonl reads its lines from stdin; drop --text");
    std::string line;
    for (int n = 1; std::getline(std::cin, line); ++n) {
        const std::string where = "stdin line " + std::to_string(n);
        if (o.decode) {
            put(json(tok.decode(parse_ids(line, where), o.skip_special)).dump() + "\n");
            continue;
        }
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception&) {
            fail(where, ": not a JSON string");
        }
        check(j.is_string(), where, ": not a JSON string");
        put(encode(j.get<std::string>()).dump() + "\n");
    }
}

}  // namespace

void add_tokenize_command(Command& program) {
    auto opts = std::make_shared<Options>();
    Command& cmd = program.subcommand(
        "tokenize", "Text to token ids as a JSON array (or ids to text with --decode), with the model's "
                    "tokenizer");
    cmd.option("--model", opts->model_dir, "Model folder, or a folder holding only the tokenizer files")
        .required();
    cmd.option("--text", opts->text, "The input (default: all of stdin, byte for byte)");
    cmd.flag("--decode", opts->decode, "Read a JSON array of ids and print the text it decodes to, as is");
    cmd.flag("--jsonl", opts->jsonl,
             "Line mode for scripts: each stdin line is one JSON string (with --decode: one JSON "
             "array); each output line is its JSON array of ids (with --decode: its JSON string)");
    cmd.flag("--skip-special", opts->skip_special, "With --decode: leave special tokens out");
    cmd.flag("--chat", opts->chat,
             "Render the text as one user turn of the model's chat template, with the generation "
             "prompt, before tokenizing");
    cmd.option("--chat-template", opts->chat_template,
               "With --chat: the template family (qwen2-vl, qwen2, llada, llada-v) instead of recognising the "
               "checkpoint's");
    cmd.option("--images", opts->images, "With --chat: image placeholders before the text")
        .range(0, 1000);
    cmd.on_run([opts, &cmd] {
        opts->has_text = cmd.given("--text");
        check(opts->chat || (opts->images == 0 && opts->chat_template.empty()),
              "--chat-template and --images go with --chat");
        check(!(opts->decode && opts->chat), "--chat applies to encoding, not to --decode");
        check(!opts->skip_special || opts->decode, "--skip-special applies to --decode");
        run_tokenize(*opts);
    });
}

}  // namespace dimple::cli
