// Byte-pair encoding by merge rank, on raw bytes and token ids.
//
// Hand-written: no Debian library implements GPT-2/Qwen2-style BPE. It follows Hugging Face
// tokenizers' semantics: start from one token per byte (byte-level BPE) or per character
// (SentencePiece-style BPE), then repeatedly apply the merge of lowest rank among adjacent pairs,
// the leftmost one first when a pair occurs more than once.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
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

    // Appends the ids of `word` (one pre-tokenized piece, raw bytes) to `out`. Thread-safe.
    void encode(std::string_view word, std::vector<int32_t>& out) const;
    // The same from given starting symbols (a piece's characters as ids, for BPE over characters).
    void encode(std::span<const int32_t> symbols, std::vector<int32_t>& out) const;

    // Pieces up to this many symbols are encoded in buffers each thread keeps (about 32 bytes a
    // symbol); longer ones in buffers freed when encoding ends.
    static constexpr size_t kKeptScratch = 4096;

private:
    struct Merge {
        uint64_t key = kEmpty;  // left id << 32 | right id
        int32_t rank = 0;
        int32_t merged = 0;
    };
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    static uint64_t key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }
    const Merge* find(int32_t left, int32_t right) const;
    Merge& slot(uint64_t key);  // where `key` is or would go
    void grow();
    template <typename Initial>
    void merge(size_t n, Initial initial, std::vector<int32_t>& out) const;

    int32_t byte_tokens_[256] = {};
    // An open-addressing hash table (linear probing, at most half full): the merge lookup is the
    // inner loop of encoding, and std::unordered_map's node chasing costs about half the time.
    std::vector<Merge> table_;
    size_t count_ = 0;
    int32_t next_rank_ = 0;
};

}  // namespace dimple::text
