// Hugging Face's BPE model (tokenizer.json's "model"): one pre-tokenized piece to ids.
//   Starting symbols: the piece's bytes for byte-level BPE (GPT-2, Qwen2, Llama 3); else its
//   characters (SentencePiece-style: Gemma, Llama 2), where a character the vocabulary lacks
//   becomes its UTF-8 bytes' <0xHH> tokens (byte_fallback) or the unknown token (consecutive ones
//   fused into one with fuse_unk; dropped when there is no unknown token, as Hugging Face does).
//   ignore_merges: a piece that is itself in the vocabulary is that token, merges or not.
// Pieces already encoded are remembered (words recur: most of English text hits the cache).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/bpe.h"

namespace dimple::text {

class BpeModel {
public:
    struct Options {
        bool byte_level = true;  // symbols are bytes (a ByteLevel pre-tokenizer) or characters
        bool byte_fallback = false, ignore_merges = false, fuse_unk = false;
        int32_t unk_id = -1;  // the unknown token, -1 for none
    };
    // The model's vocabulary, as ids by token text (byte-level text for byte-level BPE) and the
    // raw text each token stands for (its bytes for byte-level BPE, its text otherwise).
    struct Vocab {
        std::function<int32_t(std::string_view text)> id;           // -1 when absent
        std::vector<std::pair<std::string_view, int32_t>> entries;  // (raw text, id), for ignore_merges
    };

    BpeModel() = default;
    // Throws dimple::Error naming `source` when a merge names a token the vocabulary lacks, or
    // byte-level BPE lacks one of the 256 byte tokens.
    BpeModel(const Options& options, const Vocab& vocab, const std::vector<std::pair<std::string, std::string>>& merges,
             const std::string& source);

    // Appends the ids of one piece (valid UTF-8, never empty). Thread-safe.
    void encode(std::string_view piece, std::vector<int32_t>& out) const;

    // Whether every character reaches a token of its own: no unknown one is dropped or fused (then
    // no token stands for more than the longest token's text).
    bool lossless() const;

private:
    void encode_uncached(std::string_view piece, std::vector<int32_t>& out) const;
    void char_symbols(std::string_view piece, std::vector<int32_t>& symbols) const;

    Options opt_;
    Bpe bpe_;
    int32_t ascii_ids_[128];                          // characters' ids, -1 when absent
    std::unordered_map<char32_t, int32_t> char_ids_;  // (character-level BPE)
    int32_t byte_fallback_[256];                      // <0xHH> ids, -1 when absent
    bool all_bytes_ = false;                          // every <0xHH> exists

    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> whole_;  // ignore_merges lookups

    // The ids of pieces already encoded, as Hugging Face keeps too. Bounded: once full, new pieces
    // are encoded but not remembered.
    struct PieceCache {
        std::mutex mu;
        std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
    };
    std::unique_ptr<PieceCache> cache_ = std::make_unique<PieceCache>();
};

}  // namespace dimple::text
