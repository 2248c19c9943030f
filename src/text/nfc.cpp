#include "text/nfc.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/error.h"

namespace dimple::text {

namespace {

// Whether NFC leaves text made only of such code points alone: it decomposes none of them,
// reorders none (all are starters) and composes none with a neighbour. Below U+0300 that holds
// for all; above, for starters with no canonical decomposition that take no part in a
// composition (conservative: a possible first is refused too) and are no Hangul jamo (which
// compose by rule, not by table).
bool nfc_inert(utf8proc_int32_t cp) {
    if (cp < 0x300) return true;
    if (cp >= 0x1100 && cp <= 0x11FF) return false;
    const utf8proc_property_t* p = utf8proc_get_property(cp);
    return p->combining_class == 0 && !(p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) &&
           p->comb_index == UINT16_MAX;
}

bool nfc_inert(std::string_view text) {
    const auto* s = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    for (utf8proc_ssize_t i = 0, n = utf8proc_ssize_t(text.size()); i < n;) {
        if (s[i] < 0xCC) {  // lead bytes below 0xCC start code points below U+0300
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        i += utf8proc_iterate(s + i, n - i, &cp);
        if (!nfc_inert(cp)) return false;
    }
    return true;
}

int utf8proc_options(UnicodeForm form) {
    switch (form) {
        case UnicodeForm::NFC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE;
        case UnicodeForm::NFD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
        case UnicodeForm::NFKC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        case UnicodeForm::NFKD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    }
    return 0;
}

bool is_ascii(std::string_view text) {
    for (char c : text)
        if (uint8_t(c) >= 0x80) return false;
    return true;
}

// The form by utf8proc, of text that holds no U+11A7 where the form composes.
std::string utf8proc_form(std::string_view text, UnicodeForm form) {
    // Most text: skip utf8proc's copies. Every form leaves ASCII alone.
    if (form == UnicodeForm::NFC ? nfc_inert(text) : is_ascii(text)) return std::string(text);
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), utf8proc_ssize_t(text.size()),
                     &out, utf8proc_option_t(utf8proc_options(form)));
    check(n >= 0, "Unicode normalization failed: ", utf8proc_errmsg(n));
    std::string s(reinterpret_cast<const char*>(out), size_t(n));
    std::free(out);
    return s;
}

}  // namespace

// utf8proc before 2.9 (Debian 12 ships 2.8) composes an LV syllable followed by U+11A7 into the
// syllable alone, dropping the U+11A7: it takes U+11A7 (TBase, the code point just below the
// trailing consonants U+11A8..U+11C2) for a trailing consonant of index 0 and "adds" it. Unicode
// (Python, ICU, Hugging Face's tokenizers) composes no pair with U+11A7. The correction cuts the
// text at each U+11A7 and normalizes the pieces apart, which is exact, not an approximation:
// U+11A7 is a starter (ccc 0) that NFC neither decomposes nor composes with anything before or
// after it, so nothing reorders or composes across it and NFC(x U+11A7 y) = NFC(x) U+11A7 NFC(y).
// A system utf8proc that is fixed gives the same result through the same code. NFKC composes too
// (and U+11A7 has no compatibility decomposition), so the same cut serves it; NFD and NFKD compose
// nothing.
std::string unicode_normalize(std::string_view text, UnicodeForm form) {
    constexpr std::string_view tbase = "\xE1\x86\xA7";  // U+11A7
    size_t cut = form == UnicodeForm::NFC || form == UnicodeForm::NFKC ? text.find(tbase) : std::string_view::npos;
    if (cut == std::string_view::npos) return utf8proc_form(text, form);
    std::string out;
    for (size_t start = 0;; cut = text.find(tbase, start)) {
        out += utf8proc_form(text.substr(start, cut == std::string_view::npos ? std::string_view::npos : cut - start),
                             form);
        if (cut == std::string_view::npos) return out;
        out += tbase;
        start = cut + tbase.size();
    }
}

std::string nfc(std::string_view text) { return unicode_normalize(text, UnicodeForm::NFC); }

}  // namespace dimple::text
