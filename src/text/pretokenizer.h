// A tokenizer.json's "pre_tokenizer": how each normalized stretch of text is cut into pieces that
// BPE then encodes one by one (merges never cross pieces), with Hugging Face's semantics:
//   Split      a regex or literal pattern, its matches Isolated, Removed, MergedWithPrevious,
//              MergedWithNext or Contiguous, optionally inverted (Qwen2: its regex, Isolated);
//   ByteLevel  GPT-2's: optionally a space before each piece and GPT-2's regex; it also makes BPE
//              work on the pieces' bytes (byte-level BPE), so it must come last;
//   Metaspace  SentencePiece's: spaces become a replacement character (U+2581), which is put before
//              the text (prepend_scheme always, or first: only at the start of the input), then
//              optionally split before each;
//   Digits, Punctuation, Whitespace, WhitespaceSplit, and Sequence of any of these.
// Others are refused when loading, naming them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dimple::text {

// The pre-tokenization regex exactly as Qwen2's tokenizer.json writes it (the slow form's split).
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Pieces of text: views into the normalized text, or into text a step rewrote (kept in `owned`).
struct Pieces {
    std::vector<std::string_view> views;
    std::vector<std::unique_ptr<std::string>> owned;
    std::string_view own(std::string s) {
        owned.push_back(std::make_unique<std::string>(std::move(s)));
        return *owned.back();
    }
};

class PreTokenizer {
public:
    PreTokenizer();  // Qwen2's: its regex, Isolated, then byte-level
    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;
    ~PreTokenizer();

    // null gives no split (the whole stretch is one piece). Throws dimple::Error naming `where`
    // and what it does not support.
    static PreTokenizer from_json(const nlohmann::json& j, const std::string& where);

    // Appends the non-empty pieces of valid UTF-8 `text` (one normalized stretch) to `out`, in
    // order. `at_origin`: whether the stretch begins the input (for Metaspace's "first"). Thread-safe.
    void split(std::string_view text, bool at_origin, Pieces& out) const;

    // Whether a ByteLevel step makes BPE work on bytes (else on characters).
    bool byte_level() const { return byte_level_; }
    // Whether some step removes text (Removed, WhitespaceSplit): a token then stands for no bound
    // on the input's length.
    bool removes_text() const;

private:
    struct Step;
    std::vector<std::shared_ptr<const Step>> steps_;
    bool byte_level_ = false;
    void add(const nlohmann::json& j, const std::string& where);
};

}  // namespace dimple::text
