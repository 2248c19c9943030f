#include "text/chat_template.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/config.h"
#include "text/json_file.h"

namespace dimple::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kDefaultSystem = "You are a helpful assistant.";
constexpr std::string_view kImage = "<|vision_start|><|image_pad|><|vision_end|>";

// A tokenizer_config.json "chat_template" is a string, or a list of {name, template} of which
// "default" is the one used for plain chat.
std::string template_from(const json& v, const std::string& label) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array())
        for (const json& t : v)
            if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string())
                return t["template"].get<std::string>();
    fail(label, ": \"chat_template\" is neither a string nor a list holding a \"default\" template");
}

constexpr std::string_view kLladaVSystem =
    "You are a helpful language and vision assistant. You are able to understand the visual content that the "
    "user provides, and assist the user with a variety of tasks using natural language.";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Jinja's `trim`: surrounding whitespace removed.
std::string_view trimmed(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// LLaDA's tokenizer_config.json template (spec llada.md section 2): the bos text once, then each turn
// as a LLaMA-3 header and its trimmed content, and the assistant header ALWAYS appended (the
// template ignores add_generation_prompt). LLaDA-V's conversation adds its system turn and puts each
// image as "<image>\n" before the text.
std::string render_llada(const std::vector<ChatMessage>& messages, ChatTemplateKind kind) {
    std::string out = "<|startoftext|>";
    auto turn = [&](std::string_view role, std::string_view content) {
        out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
        out.append(trimmed(content)).append("<|eot_id|>");
    };
    if (kind == ChatTemplateKind::LladaV && (messages.empty() || messages.front().role != "system"))
        turn("system", kLladaVSystem);
    for (const ChatMessage& m : messages) {
        std::string content;
        for (int k = 0; k < m.images; ++k) content.append(kLladaImageMarker).append("\n");
        turn(m.role, content + m.text);
    }
    out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    return out;
}

}  // namespace

std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        ChatTemplateKind kind) {
    const bool llada = kind == ChatTemplateKind::Llada || kind == ChatTemplateKind::LladaV;
    for (size_t i = 0; i < messages.size(); ++i) {
        check(messages[i].images >= 0, "chat message ", i, ": negative image count");
        check(messages[i].images == 0 || kind == ChatTemplateKind::Qwen2VL || kind == ChatTemplateKind::LladaV,
              "chat message ", i, " has images, but the ", chat_template_name(kind),
              " chat template has no image placeholder");
    }
    if (llada) return render_llada(messages, kind);
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (i == 0 && m.role != "system") out.append("<|im_start|>system\n").append(kDefaultSystem).append("<|im_end|>\n");
        out.append("<|im_start|>").append(m.role).append("\n");
        for (int k = 0; k < m.images; ++k) out.append(kImage);
        out.append(m.text).append("<|im_end|>\n");
    }
    if (add_generation_prompt) out.append("<|im_start|>assistant\n");
    return out;
}

ChatTemplateKind detect_chat_template(const std::string& t) {
    // Markers rather than string equality: copies of these templates differ in whitespace, in
    // {%- -%} trimming and in extras (video placeholders, "Picture N:" labels) that do not change
    // what a chat of text and images renders to.
    auto has = [&](std::string_view s) { return t.find(s) != std::string::npos; };
    const bool chatml = has("<|im_start|>") && has("<|im_end|>") && has(kDefaultSystem) && has("assistant");
    if (chatml && has("<|vision_start|>") && has("<|image_pad|>") && has("<|vision_end|>"))
        return ChatTemplateKind::Qwen2VL;
    // Qwen2.5's text template defaults to another system prompt that merely ends like this one.
    if (chatml && !has("<|image_pad|>") && !has("You are Qwen")) return ChatTemplateKind::Qwen2;
    // LLaDA's is LLaMA 3's template with its own bos token (named as bos_token, not written out).
    if (has("<|start_header_id|>") && has("<|end_header_id|>") && has("<|eot_id|>") && !has("<|begin_of_text|>"))
        return ChatTemplateKind::Llada;
    fail("the checkpoint's chat template is not one dimple renders (known: qwen2-vl for Qwen2-VL, "
         "Qwen2.5-VL and Dimple; qwen2 for Qwen2 and Dream; llada and llada-v); name one with --chat-template");
}

ChatTemplateKind chat_template_by_name(std::string_view name) {
    if (name == "qwen2-vl") return ChatTemplateKind::Qwen2VL;
    if (name == "qwen2") return ChatTemplateKind::Qwen2;
    if (name == "llada") return ChatTemplateKind::Llada;
    if (name == "llada-v") return ChatTemplateKind::LladaV;
    fail("unknown chat template \"", name, "\" (known: qwen2-vl, qwen2, llada, llada-v)");
}

std::string_view chat_template_name(ChatTemplateKind kind) {
    switch (kind) {
        case ChatTemplateKind::Qwen2VL: return "qwen2-vl";
        case ChatTemplateKind::Qwen2: return "qwen2";
        case ChatTemplateKind::Llada: return "llada";
        case ChatTemplateKind::LladaV: return "llada-v";
    }
    return "?";
}

std::string load_chat_template(const std::string& dir) {
    const std::string jinja = dir + "/chat_template.jinja", processor = dir + "/chat_template.json",
                      config = dir + "/tokenizer_config.json";
    if (fs::is_regular_file(jinja)) return read_text_file(jinja);
    for (const std::string& path : {processor, config}) {
        if (!fs::is_regular_file(path)) continue;
        const json j = read_json_file(path);
        if (j.is_object() && j.contains("chat_template")) return template_from(j["chat_template"], path);
    }
    return "";
}

ChatTemplateKind resolve_chat_template(const std::string& dir, const std::string& name) {
    if (!name.empty()) return chat_template_by_name(name);
    const std::string t = load_chat_template(dir);
    check(!t.empty(), dir, ": no chat template (none in chat_template.jinja, chat_template.json or "
                           "tokenizer_config.json); name one with --chat-template");
    return detect_chat_template(t);
}

}  // namespace dimple::text
