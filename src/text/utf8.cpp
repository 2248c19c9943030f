#include "text/utf8.h"

#include <cstdint>

namespace dimple::text {

namespace {

// Length of the well-formed sequence starting at s[i], or, when it is not one, the negated length
// of its longest well-formed prefix (at least 1: a lone bad byte counts as a subpart of its own).
// `truncated` tells whether the sequence was cut by the end of `s` rather than by a bad byte.
int sequence_at(std::string_view s, size_t i, bool& truncated) {
    truncated = false;
    const uint8_t b = uint8_t(s[i]);
    if (b < 0x80) return 1;
    int len;
    uint8_t lo = 0x80, hi = 0xBF;  // the range allowed for the second byte (Unicode table 3-7)
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b == 0xE0) len = 3, lo = 0xA0;
    else if (b == 0xED) len = 3, hi = 0x9F;  // no surrogates
    else if (b >= 0xE1 && b <= 0xEF) len = 3;
    else if (b == 0xF0) len = 4, lo = 0x90;
    else if (b == 0xF4) len = 4, hi = 0x8F;  // nothing above U+10FFFF
    else if (b >= 0xF1 && b <= 0xF3) len = 4;
    else return -1;
    for (int k = 1; k < len; ++k) {
        if (i + k >= s.size()) {
            truncated = true;
            return -k;
        }
        const uint8_t c = uint8_t(s[i + k]);
        if (c < lo || c > hi) return -k;
        lo = 0x80, hi = 0xBF;
    }
    return len;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    bool truncated;
    for (size_t i = 0; i < s.size();) {
        const int n = sequence_at(s, i, truncated);
        if (n < 0) return false;
        i += size_t(n);
    }
    return true;
}

size_t append_utf8_lossy(std::string_view s, std::string& out, bool final) {
    size_t i = 0;
    bool truncated;
    while (i < s.size()) {
        const int n = sequence_at(s, i, truncated);
        if (n > 0) {
            out.append(s.substr(i, size_t(n)));
            i += size_t(n);
            continue;
        }
        if (truncated && !final) break;
        out.append(kReplacementChar);
        i += size_t(-n);
    }
    return i;
}

void append_utf8(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

char32_t next_code_point(std::string_view s, size_t& i) {
    const uint8_t b = uint8_t(s[i]);
    const int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (int k = 1; k < len; ++k) cp = cp << 6 | (uint8_t(s[i + size_t(k)]) & 0x3F);
    i += size_t(len);
    return cp;
}

bool is_white_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace dimple::text
