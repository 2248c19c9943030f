// Byte-pair encoding by merge rank, on raw bytes and token ids.
//
// Hand-written: no Debian library implements GPT-2/Qwen2-style BPE. It follows Hugging Face
// tokenizers' semantics: start from one token per byte, then repeatedly apply the merge of lowest
// rank among adjacent pairs, the leftmost one first when a pair occurs more than once.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dimple::text {

class Bpe {
public:
    Bpe() = default;
    // byte_tokens[b]: the id of the one-byte token for byte b (all 256 must exist).
    explicit Bpe(const int32_t (&byte_tokens)[256]);

    // Adds the merge (left, right) -> merged with the next rank (call in merges.txt order).
    // A pair listed twice takes its later rank, as both Hugging Face and the JavaScript port do.
    void add_merge(int32_t left, int32_t right, int32_t merged);

    // Appends the ids of `word` (one pre-tokenized piece, raw bytes) to `out`.
    void encode(std::string_view word, std::vector<int32_t>& out) const;

private:
    struct Merge {
        int32_t rank;
        int32_t merged;
    };
    static uint64_t key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }
    const Merge* find(int32_t left, int32_t right) const;

    int32_t byte_tokens_[256] = {};
    std::unordered_map<uint64_t, Merge> merges_;
    int32_t next_rank_ = 0;
};

}  // namespace dimple::text
