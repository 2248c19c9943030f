// Qwen2's pre-tokenization (after NFC, text/nfc.h): a split into pieces by the Qwen2 regex
// (contractions, letter runs with one leading non-letter, single digits, punctuation runs,
// line breaks, whitespace runs that leave their last space to the next word). BPE then runs on
// each piece on its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dimple::text {

// The pre-tokenization regex exactly as Qwen2's tokenizer.json writes it; loading a tokenizer.json
// checks that its Split pre-tokenizer uses this pattern.
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class PreTokenizer {
public:
    PreTokenizer();  // compiles the pattern (PCRE2, JIT when available)
    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;
    ~PreTokenizer();

    // Appends the pieces of valid UTF-8 `text` (already normalized) to `pieces`, in order; they
    // cover the text exactly. Thread-safe.
    void split(std::string_view text, std::vector<std::string_view>& pieces) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dimple::text
