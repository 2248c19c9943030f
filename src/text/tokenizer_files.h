// Reading a Qwen2 tokenizer from a Hugging Face folder, in either of the two forms checkpoints
// ship: tokenizer.json (the "fast" form), or vocab.json + merges.txt (the "slow" form, as in
// Dimple-7B's folder), each with tokenizer_config.json's added_tokens_decoder on top.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dimple::text {

struct TokenizerFiles {
    struct Added {
        int32_t id;
        std::string content;
        bool special;
    };
    std::vector<std::pair<std::string, int32_t>> vocab;          // byte-level text -> id
    std::vector<std::pair<std::string, std::string>> merges;     // in rank order
    std::vector<Added> added;
    std::string source;  // the file(s) read, for messages
};

// Throws dimple::Error naming the file when the folder holds neither form, a file is malformed,
// or tokenizer.json describes a tokenizer other than Qwen2's (another model, normalizer or regex).
TokenizerFiles read_tokenizer_files(const std::string& dir);

}  // namespace dimple::text
