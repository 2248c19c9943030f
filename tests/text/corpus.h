// A generated test corpus for the tokenizer: many kinds of text, deterministic for a given seed.
// Shared by the parity test (tests/text) and the speed benchmark (bench/bench_tokenizer.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dtest {

// `count` strings of valid UTF-8 cycling through the kinds: English prose, code, CJK, Arabic,
// Devanagari, Cyrillic and Greek, emoji and ZWJ sequences, combining marks and decomposed text
// (NFC changes it), digit runs, whitespace runs with tabs / CR / LF / trailing spaces,
// contractions in mixed case, special tokens embedded in text (`specials`), random code points,
// Korean (syllables, conjoining and historic jamo, U+11A7 after LV syllables), mixtures of all of
// these, and a few long pieces. The first string is empty.
//
// Left out on purpose: U+0085, U+FEFF and U+017F, where the JavaScript reference parts from
// Hugging Face (JavaScript's \s takes U+FEFF but not U+0085; its rewrite of (?i:'s) does not
// match "'ſ"); tests/text/test_pretokenizer.cpp pins dimple's (Hugging Face's) behaviour there.
std::vector<std::string> make_corpus(size_t count, uint64_t seed, const std::vector<std::string>& specials);

// Mixed text of about `bytes` bytes, one paragraph a line, for measuring speed.
std::string make_mixed_text(size_t bytes, uint64_t seed);

}  // namespace dtest
