// GPT-2's byte-level alphabet, which Qwen2's vocab.json and merges.txt are written in: every byte
// value stands for one printable code point, so that tokens made of arbitrary bytes (parts of a
// UTF-8 sequence, control bytes, spaces) can be stored as text. The printable bytes '!'..'~',
// U+00A1..U+00AC and U+00AE..U+00FF stand for themselves; the other 68 bytes, in increasing order,
// stand for U+0100, U+0101, ... (so the space 0x20 is written "Ġ", U+0120).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dimple::text {

char32_t byte_to_unicode(uint8_t b);

// The byte-level text of raw bytes: bytes_to_byte_level(" hi") == "Ġhi".
std::string bytes_to_byte_level(std::string_view bytes);

// The bytes a byte-level text stands for, into `out`. False when the text is not valid UTF-8 or
// holds a code point outside the alphabet (then `out` is unspecified).
bool byte_level_to_bytes(std::string_view text, std::string& out);

}  // namespace dimple::text
