// Reading a tokenizer from a Hugging Face folder, in either of the two forms checkpoints ship:
// tokenizer.json (the "fast" form: any BPE tokenizer, its pipeline included), or vocab.json +
// merges.txt (the "slow" form, which dimple reads as Qwen2's, as in Dimple-7B's folder), each with
// tokenizer_config.json's added_tokens_decoder on top.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/pretokenizer.h"

namespace dimple::text {

struct TokenizerFiles {
    struct Added {
        int32_t id;
        std::string content;
        bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = false;
    };
    std::vector<std::pair<std::string, int32_t>> vocab;       // token text -> id (byte-level text for byte-level BPE)
    std::vector<std::pair<std::string, std::string>> merges;  // in rank order
    std::vector<Added> added;
    // The model's options (tokenizer.json's "model").
    bool byte_fallback = false, ignore_merges = false, fuse_unk = false;
    std::string unk_token;  // empty for none
    Normalizer normalizer;
    PreTokenizer pretokenizer;
    Decoder decoder;
    // What the post-processor puts around a single text when special tokens are added (Hugging
    // Face's default call): TemplateProcessing's special tokens (Gemma's <bos>), Bert's or Roberta's.
    std::vector<int32_t> prefix_ids, suffix_ids;
    // tokenizer_config.json's clean_up_tokenization_spaces (absent: false, transformers' default
    // since 4.45; Llama 3's file sets it).
    bool clean_up_spaces = false;
    std::string source;  // the file(s) read, for messages
};

// Throws dimple::Error naming the file when the folder holds neither form, a file is malformed, or
// tokenizer.json uses a model or pipeline step dimple does not support (the message names it).
TokenizerFiles read_tokenizer_files(const std::string& dir);

}  // namespace dimple::text
