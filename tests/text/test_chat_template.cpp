#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "reference.h"
#include "testing.h"
#include "text/chat_template.h"
#include "text/image_tokens.h"
#include "text/tokenizer.h"

using namespace dimple;
using namespace dimple::text;

namespace {

const std::string kSystem = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
const std::string kImage = "<|vision_start|><|image_pad|><|vision_end|>";

// Dream's (and Qwen2's) text-only template, as its tokenizer_config.json carries it.
const char* const kDreamTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

}  // namespace

TEST(ChatTemplate, RendersQwen2VLConversations) {
    EXPECT_EQ(render_chat({{"user", "Hi"}}, true, ChatTemplateKind::Qwen2VL),
              kSystem + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(render_chat({{"system", "Be brief."}, {"user", "What is it?", 2}}, false, ChatTemplateKind::Qwen2VL),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n" + kImage + kImage +
                  "What is it?<|im_end|>\n");
    EXPECT_EQ(render_chat({{"user", "", 1}, {"assistant", "A cat."}, {"user", "Sure?"}}, true,
                          ChatTemplateKind::Qwen2VL),
              kSystem + "<|im_start|>user\n" + kImage + "<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>\n" +
                  "<|im_start|>user\nSure?<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_EQ(render_chat({}, true, ChatTemplateKind::Qwen2VL), "<|im_start|>assistant\n");
}

TEST(ChatTemplate, TextOnlyFamilyRefusesImages) {
    EXPECT_EQ(render_chat({{"user", "Hi"}}, true, ChatTemplateKind::Qwen2),
              render_chat({{"user", "Hi"}}, true, ChatTemplateKind::Qwen2VL));
    try {
        render_chat({{"user", "Hi", 1}}, true, ChatTemplateKind::Qwen2);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no image placeholder"), std::string::npos) << e.what();
    }
}

TEST(ChatTemplate, RecognisesFamiliesByTheirMarkers) {
    EXPECT_EQ(detect_chat_template(dtest::qwen2vl_chat_template()), ChatTemplateKind::Qwen2VL);
    // Reformatted copies (whitespace control, line breaks) are the same family.
    std::string trimmed = dtest::qwen2vl_chat_template();
    for (size_t p; (p = trimmed.find("{% ")) != std::string::npos;) trimmed.replace(p, 3, "{%- ");
    EXPECT_EQ(detect_chat_template(trimmed), ChatTemplateKind::Qwen2VL);
    EXPECT_EQ(detect_chat_template(kDreamTemplate), ChatTemplateKind::Qwen2);
    // Qwen2.5's text template has another default system prompt; Qwen3's has none.
    std::string qwen25 = kDreamTemplate;
    qwen25.insert(qwen25.find("You are"), "You are Qwen, created by Alibaba Cloud. ");
    EXPECT_THROW(detect_chat_template(qwen25), Error);
    EXPECT_THROW(detect_chat_template("{{ messages }}"), Error);
    EXPECT_EQ(chat_template_by_name("qwen2-vl"), ChatTemplateKind::Qwen2VL);
    EXPECT_EQ(chat_template_name(ChatTemplateKind::Qwen2), "qwen2");
    EXPECT_THROW(chat_template_by_name("llama3"), Error);
}

TEST(ChatTemplate, LoadsFromTheFilesInHuggingFacesOrder) {
    const std::string dir = dtest::temp_dir();
    EXPECT_EQ(load_chat_template(dir), "");
    EXPECT_THROW(resolve_chat_template(dir, ""), Error);
    EXPECT_EQ(resolve_chat_template(dir, "qwen2"), ChatTemplateKind::Qwen2);
    std::ofstream(dir + "/tokenizer_config.json") << nlohmann::json{{"chat_template", kDreamTemplate}}.dump();
    EXPECT_EQ(resolve_chat_template(dir, ""), ChatTemplateKind::Qwen2);
    std::ofstream(dir + "/chat_template.json")
        << nlohmann::json{{"chat_template", dtest::qwen2vl_chat_template()}}.dump();
    EXPECT_EQ(resolve_chat_template(dir, ""), ChatTemplateKind::Qwen2VL);
    std::ofstream(dir + "/chat_template.jinja") << "{{ messages }}";
    EXPECT_EQ(load_chat_template(dir), "{{ messages }}");
    EXPECT_THROW(resolve_chat_template(dir, ""), Error);
    std::ofstream(dir + "/tokenizer_config.json")
        << nlohmann::json{{"chat_template", {{{"name", "default"}, {"template", "x"}}}}}.dump();
    std::filesystem::remove(dir + "/chat_template.jinja");
    std::filesystem::remove(dir + "/chat_template.json");
    EXPECT_EQ(load_chat_template(dir), "x");
}

TEST(ChatTemplate, RenderedPromptTokenizesToTheSpecialIds) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::dimple_tokenizer_dir();
    const Tokenizer tok = Tokenizer::load(dir);
    const std::string prompt = render_chat({{"user", "Describe.", 1}}, true, resolve_chat_template(dir, ""));
    const std::vector<int32_t> ids = tok.encode(prompt);
    const std::vector<int32_t> image = {151652, 151655, 151653};
    EXPECT_NE(std::search(ids.begin(), ids.end(), image.begin(), image.end()), ids.end());
    EXPECT_EQ(ids.front(), 151644);
    EXPECT_EQ(std::vector<int32_t>(ids.end() - 3, ids.end()),
              (std::vector<int32_t>{151644, tok.token_id("assistant"), tok.token_id("\xC4\x8A")}));  // "Ċ" = \n
    EXPECT_EQ(tok.decode(ids), prompt);
}

// LLaDA's template (spec llada.md section 2): the bos text once, LLaMA-3 headers, trimmed contents,
// the assistant header always appended.
TEST(ChatTemplate, RendersLladaConversations) {
    EXPECT_EQ(render_chat({{"user", "  Q \n", 0}}, true, ChatTemplateKind::Llada),
              "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(render_chat({{"system", "S", 0}, {"user", "Q", 0}}, false, ChatTemplateKind::Llada),
              "<|startoftext|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_THROW(render_chat({{"user", "Q", 1}}, true, ChatTemplateKind::Llada), Error);
}

// LLaDA-V's demo prompt, with its default system turn and the image marker before the question.
TEST(ChatTemplate, RendersTheLladaVDemoPrompt) {
    EXPECT_EQ(render_chat({{"user", "Please describe the image in detail.", 1}}, true, ChatTemplateKind::LladaV),
              "<|startoftext|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision "
              "assistant. You are able to understand the visual content that the user provides, and assist the user "
              "with a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
              "<image>\nPlease describe the image in detail.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    EXPECT_EQ(chat_template_by_name("llada-v"), ChatTemplateKind::LladaV);
    EXPECT_EQ(chat_template_name(ChatTemplateKind::Llada), "llada");
}

TEST(ChatTemplate, RecognisesLladasTemplate) {
    const std::string llada =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
        "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
        "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
        "{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}";
    EXPECT_EQ(detect_chat_template(llada), ChatTemplateKind::Llada);
    // LLaMA 3's own (its bos written out) is not LLaDA's.
    EXPECT_THROW(detect_chat_template("{{ '<|begin_of_text|>' }}" + llada), Error);
}

// tokenizer_image_token's rule: the first piece's leading bos kept once, every piece's first id
// dropped, the pieces joined with the image id.
TEST(ImageTokens, FollowLlavasTokenizerImageToken) {
    DIMPLE_REQUIRE_NPM();
    const Tokenizer tok = Tokenizer::load(dtest::dimple_tokenizer_dir());
    const int32_t bos = tok.token_id("<|im_start|>");
    auto ids = [&](std::string_view s) {
        const std::vector<int32_t> v = tok.encode(s);
        return std::vector<int64_t>(v.begin(), v.end());
    };
    const std::vector<int64_t> first = ids("<|im_start|>user\n"), second = ids("\nWhat is it?"), third = ids(" x");
    std::vector<int64_t> expected = first;
    expected.push_back(-200);
    expected.insert(expected.end(), second.begin() + 1, second.end());  // its first id ("\n") dropped
    expected.push_back(-200);
    expected.insert(expected.end(), third.begin() + 1, third.end());
    EXPECT_EQ(tokenize_with_images(tok, "<|im_start|>user\n<image>\nWhat is it?<image> x", "<image>", -200, bos),
              expected);
    // Without a leading bos nothing is dropped.
    std::vector<int64_t> intact = ids("user\n");
    intact.push_back(-200);
    intact.insert(intact.end(), second.begin(), second.end());
    EXPECT_EQ(tokenize_with_images(tok, "user\n<image>\nWhat is it?", "<image>", -200, bos), intact);
}
