// The regular expressions of a tokenizer.json (Split pre-tokenizers, Replace normalizers and
// decoders), run by PCRE2.
//
// Hugging Face's tokenizers compile these with Oniguruma, whose syntax PCRE2 mostly shares; where
// the two read an escape differently the pattern is rewritten (regex.cpp), so that the matches are
// Oniguruma's. A literal pattern ({"String": ...} in tokenizer.json) matches itself.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dimple::text {

class Regex {
public:
    // Throws dimple::Error naming `where` for a pattern PCRE2 cannot compile or one that uses a
    // construct whose meaning would differ (e.g. \S inside a character class).
    static Regex oniguruma(std::string_view pattern, const std::string& where);
    static Regex literal(std::string_view text);

    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;
    ~Regex();

    // Appends the [start, end) byte ranges of the non-overlapping matches in valid UTF-8 `text`,
    // leftmost first; an empty match matches nothing (the search moves one character on).
    // Thread-safe.
    void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

    // `text` with every match replaced by `content` (taken literally).
    std::string replace_all(std::string_view text, std::string_view content) const;

    // The PCRE2 pattern compiled, or the literal text.
    const std::string& pcre2_pattern() const;
    bool is_literal() const;

private:
    struct Impl;
    explicit Regex(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// A tokenizer.json pattern object: {"String": "..."} (literal) or {"Regex": "..."}.
Regex pattern_from_json(const nlohmann::json& pattern, const std::string& where);

// Oniguruma's pattern rewritten in PCRE2's syntax (exposed for tests).
std::string oniguruma_to_pcre2(std::string_view pattern, const std::string& where);

}  // namespace dimple::text
