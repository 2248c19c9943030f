#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace dimple::text {

namespace {

bool stands_for_itself(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Tables {
    std::array<char32_t, 256> to_unicode{};
    std::array<int16_t, 0x144> to_byte{};  // code point -> byte, -1 when not in the alphabet

    Tables() {
        to_byte.fill(-1);
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            to_unicode[b] = stands_for_itself(b) ? char32_t(b) : next++;
            to_byte[to_unicode[b]] = int16_t(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return tables().to_unicode[b]; }

std::string bytes_to_byte_level(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) append_utf8(byte_to_unicode(uint8_t(c)), out);
    return out;
}

bool byte_level_to_bytes(std::string_view text, std::string& out) {
    const Tables& t = tables();
    out.clear();
    for (size_t i = 0; i < text.size();) {
        const uint8_t b = uint8_t(text[i]);
        char32_t cp;
        if (b < 0x80) {
            cp = b, i += 1;
        } else if ((b & 0xE0) == 0xC0 && i + 1 < text.size() && (uint8_t(text[i + 1]) & 0xC0) == 0x80) {
            cp = char32_t(b & 0x1F) << 6 | (uint8_t(text[i + 1]) & 0x3F), i += 2;
            if (cp < 0x80) return false;  // overlong
        } else {
            return false;  // the alphabet lies below U+0144: two bytes at most
        }
        if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return false;
        out += char(t.to_byte[cp]);
    }
    return true;
}

}  // namespace dimple::text
