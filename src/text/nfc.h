// Unicode Normalization Form C, as Hugging Face's NFC normalizer applies it to text before Qwen2's
// pre-tokenization: through utf8proc, with a correction for utf8proc 2.8 (see nfc.cpp).
#pragma once

#include <string>
#include <string_view>

namespace dimple::text {

// The NFC form of valid UTF-8 text.
std::string nfc(std::string_view text);

}  // namespace dimple::text
