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

}  // namespace

std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        ChatTemplateKind kind) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        check(m.images >= 0, "chat message ", i, ": negative image count");
        check(m.images == 0 || kind == ChatTemplateKind::Qwen2VL, "chat message ", i, " has images, but the ",
              chat_template_name(kind), " chat template has no image placeholder");
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
    fail("the checkpoint's chat template is not one dimple renders (known: qwen2-vl for Qwen2-VL, "
         "Qwen2.5-VL and Dimple; qwen2 for Qwen2 and Dream); name one with --chat-template");
}

ChatTemplateKind chat_template_by_name(std::string_view name) {
    if (name == "qwen2-vl") return ChatTemplateKind::Qwen2VL;
    if (name == "qwen2") return ChatTemplateKind::Qwen2;
    fail("unknown chat template \"", name, "\" (known: qwen2-vl, qwen2)");
}

std::string_view chat_template_name(ChatTemplateKind kind) {
    return kind == ChatTemplateKind::Qwen2VL ? "qwen2-vl" : "qwen2";
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
