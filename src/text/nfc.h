// Unicode normalization as Hugging Face's NFC, NFD, NFKC and NFKD normalizers apply it (Qwen2's
// tokenizer is NFC): through utf8proc, with a correction for utf8proc 2.8 (see nfc.cpp).
#pragma once

#include <string>
#include <string_view>

namespace dimple::text {

// The NFC form of valid UTF-8 text.
std::string nfc(std::string_view text);

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };
// The given normalization form of valid UTF-8 text.
std::string unicode_normalize(std::string_view text, UnicodeForm form);

}  // namespace dimple::text
