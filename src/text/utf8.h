// UTF-8 handling for the tokenizer: checking, repairing, and finding where a byte stream may be cut.
//
// Invalid input is repaired, never rejected: each maximal invalid subsequence becomes one U+FFFD,
// the Unicode "best practice" that Rust's String::from_utf8_lossy (Hugging Face's decoder) and the
// WHATWG TextDecoder (the JavaScript reference) both follow, so that encode(), decode() and the
// streaming decoder agree with the references byte for byte. Hand-written because utf8proc only
// validates (it stops at the first bad byte) and has no notion of a sequence still to be finished.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dimple::text {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

bool is_valid_utf8(std::string_view s);

// Appends `s` to `out` with invalid sequences replaced by U+FFFD and returns how many bytes of `s`
// it consumed. With final=false an incomplete sequence at the very end is left unconsumed (the
// caller holds it back until more bytes arrive); with final=true it is replaced too.
size_t append_utf8_lossy(std::string_view s, std::string& out, bool final);

inline std::string utf8_lossy(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    append_utf8_lossy(s, out, true);
    return out;
}

// Appends the UTF-8 encoding of code point `cp` (< 0x110000, not a surrogate).
void append_utf8(char32_t cp, std::string& out);

// The code point starting at s[i] of valid UTF-8 `s`, moving `i` past it.
char32_t next_code_point(std::string_view s, size_t& i);

// Unicode White_Space: Rust's char::is_whitespace, which Hugging Face's strips and splits use.
bool is_white_space(char32_t cp);

}  // namespace dimple::text
