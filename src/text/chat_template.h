// Chat templates, rendered in C++ rather than by a Jinja interpreter: a checkpoint's
// `chat_template` is recognised as one of the families below, and that family's rendering is
// reproduced here exactly. A template that is not recognised is an error, unless the user names
// the family explicitly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dimple::text {

enum class ChatTemplateKind {
    Qwen2,    // ChatML with the default system turn "You are a helpful assistant." (Qwen2, Dream)
    Qwen2VL,  // the same with image placeholders in turns (Qwen2-VL, Qwen2.5-VL, Dimple)
    Llada,    // LLaMA-3 headers after <|startoftext|>, turns ending <|eot_id|>, no default system (LLaDA)
    LladaV,   // the same with LLaDA-V's default system turn and "<image>\n" per image (LLaDA-V)
};

// The text LLaDA-V's prompt holds in place of each image: the engine splits the prompt there.
inline constexpr std::string_view kLladaImageMarker = "<image>";

struct ChatMessage {
    std::string role;  // "system", "user", "assistant"
    std::string text;
    int images = 0;  // image placeholders placed before the text, as the Qwen2.5-VL processor does
                     // for content [{"type": "image"}, ..., {"type": "text"}]
};

// The prompt text: a default system turn when the first message is not a system one; each turn
// "<|im_start|>{role}\n{images}{text}<|im_end|>\n", each image being
// "<|vision_start|><|image_pad|><|vision_end|>" (one <|image_pad|>: the processor expands it to
// the image's token count later); then "<|im_start|>assistant\n" if add_generation_prompt.
// Throws dimple::Error for images under ChatTemplateKind::Qwen2, which has no image placeholder.
std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        ChatTemplateKind kind);

// Recognises a Jinja chat template by the markers of its family; throws dimple::Error naming the
// families and the --chat-template option when it is none of them.
ChatTemplateKind detect_chat_template(const std::string& template_text);

// "qwen2" / "qwen2-vl" / "llada" / "llada-v" and back; throws for an unknown name.
ChatTemplateKind chat_template_by_name(std::string_view name);
std::string_view chat_template_name(ChatTemplateKind kind);

// The checkpoint's chat template text, from the first of chat_template.jinja, chat_template.json
// and tokenizer_config.json (the order the Hugging Face processors prefer); empty if none has one.
std::string load_chat_template(const std::string& dir);

// The family to render with: `name` when given, else the one detected in `dir`'s template.
ChatTemplateKind resolve_chat_template(const std::string& dir, const std::string& name);

}  // namespace dimple::text
