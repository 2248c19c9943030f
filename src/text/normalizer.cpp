#include "text/normalizer.h"

#include <utf8proc.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/nfc.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace dimple::text {

using nlohmann::json;

namespace {

constexpr double kUnbounded = std::numeric_limits<double>::infinity();

// Rust's Cased and Case_Ignorable (which decide the final sigma), from utf8proc's categories: cased
// letters and whatever has a case mapping; marks, format characters, modifiers and the word-internal
// punctuation of Word_Break's MidLetter, MidNumLet and Single_Quote.
bool is_cased(char32_t c) {
    const auto cat = utf8proc_category(utf8proc_int32_t(c));
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower(utf8proc_int32_t(c)) != utf8proc_int32_t(c) ||
           utf8proc_toupper(utf8proc_int32_t(c)) != utf8proc_int32_t(c);
}

bool is_case_ignorable(char32_t c) {
    switch (utf8proc_category(utf8proc_int32_t(c))) {
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_SK: return true;
        default: break;
    }
    for (char32_t m : {0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52,
                       0xFE55, 0xFF07, 0xFF0E, 0xFF1A})
        if (c == m) return true;
    return false;
}

// Whether, skipping case-ignorable code points, the first one met is cased.
template <typename Next>
bool ignorable_then_cased(Next next) {
    for (char32_t c; next(c);)
        if (!is_case_ignorable(c)) return is_cased(c);
    return false;
}

// Rust's str::to_lowercase, which Hugging Face's Lowercase calls: the simple mappings, U+0130's
// two-code-point one, and Σ as ς at the end of a word.
std::string lowercase(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::vector<char32_t> cps;
    for (size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, i));
    for (size_t k = 0; k < cps.size(); ++k) {
        const char32_t c = cps[k];
        if (c == 0x130) {
            out += "i\xCC\x87";
        } else if (c == 0x3A3) {
            size_t back = k, fwd = k + 1;
            const bool final =
                ignorable_then_cased([&](char32_t& x) { return back > 0 && (x = cps[--back], true); }) &&
                !ignorable_then_cased([&](char32_t& x) { return fwd < cps.size() && (x = cps[fwd++], true); });
            append_utf8(final ? 0x3C2 : 0x3C3, out);
        } else {
            append_utf8(char32_t(utf8proc_tolower(utf8proc_int32_t(c))), out);
        }
    }
    return out;
}

std::string_view strip(std::string_view s, bool left, bool right) {
    size_t start = 0, end = s.size();
    if (left)
        for (size_t i = 0; i < s.size();) {
            if (!is_white_space(next_code_point(s, i))) break;
            start = i;
        }
    if (right)
        while (end > start) {
            size_t b = end - 1;
            while (b > start && (uint8_t(s[b]) & 0xC0) == 0x80) --b;
            size_t i = b;
            if (!is_white_space(next_code_point(s, i))) break;
            end = b;
        }
    return s.substr(start, end - start);
}

}  // namespace

struct Normalizer::Step {
    enum Kind { Form, Replace, Prepend, Strip, Lowercase } kind;
    explicit Step(Kind k) : kind(k) {}
    UnicodeForm form = UnicodeForm::NFC;
    std::unique_ptr<Regex> pattern;
    std::string content;  // Replace's replacement, Prepend's text
    bool left = false, right = false;
};

Normalizer::Normalizer() = default;
Normalizer::Normalizer(Normalizer&&) noexcept = default;
Normalizer& Normalizer::operator=(Normalizer&&) noexcept = default;
Normalizer::~Normalizer() = default;

Normalizer Normalizer::nfc() {
    Normalizer n;
    n.steps_.push_back(std::make_shared<Step>(Step::Form));
    return n;
}

Normalizer Normalizer::from_json(const json& j, const std::string& where) {
    Normalizer n;
    if (j.is_null()) return n;
    check(j.is_object() && j.contains("type") && j["type"].is_string(), where, ": a normalizer has no \"type\"");
    const std::string type = j["type"].get<std::string>();
    auto step = std::make_shared<Step>(Step::Form);
    if (type == "Sequence") {
        check(j.contains("normalizers") && j["normalizers"].is_array(), where,
              ": a Sequence normalizer has no \"normalizers\" list");
        for (const json& sub : j["normalizers"]) {
            Normalizer s = from_json(sub, where);
            n.steps_.insert(n.steps_.end(), s.steps_.begin(), s.steps_.end());
        }
        return n;
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
        step->form = type == "NFC"    ? UnicodeForm::NFC
                     : type == "NFD"  ? UnicodeForm::NFD
                     : type == "NFKC" ? UnicodeForm::NFKC
                                      : UnicodeForm::NFKD;
    } else if (type == "Replace") {
        check(j.contains("content") && j["content"].is_string(), where, ": a Replace normalizer has no \"content\"");
        step->kind = Step::Replace;
        step->pattern = std::make_unique<Regex>(pattern_from_json(j.value("pattern", json()), where));
        step->content = j["content"].get<std::string>();
    } else if (type == "Prepend") {
        check(j.contains("prepend") && j["prepend"].is_string(), where, ": a Prepend normalizer has no \"prepend\"");
        step->kind = Step::Prepend;
        step->content = j["prepend"].get<std::string>();
    } else if (type == "Strip") {
        step->kind = Step::Strip;
        step->left = j.value("strip_left", false);
        step->right = j.value("strip_right", false);
    } else if (type == "Lowercase") {
        step->kind = Step::Lowercase;
    } else {
        fail(where, ": the normalizer \"", type,
             "\" is not supported (supported: NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip, Lowercase, "
             "Sequence)");
    }
    n.steps_.push_back(std::move(step));
    return n;
}

std::string Normalizer::apply(std::string_view text) const {
    std::string s;
    for (size_t k = 0; k < steps_.size(); ++k) {
        const Step& st = *steps_[k];
        const std::string_view in = k == 0 ? text : std::string_view(s);  // the first step reads the text itself
        switch (st.kind) {
            case Step::Form: s = unicode_normalize(in, st.form); break;
            case Step::Replace: s = st.pattern->replace_all(in, st.content); break;
            case Step::Prepend: s = in.empty() ? std::string() : st.content + std::string(in); break;
            case Step::Strip: s = std::string(strip(in, st.left, st.right)); break;
            case Step::Lowercase: s = lowercase(in); break;
        }
    }
    return steps_.empty() ? std::string(text) : s;
}

double Normalizer::shrink_bound() const {
    double bound = 1;
    for (const auto& st : steps_) {
        switch (st->kind) {
            // NFC composes three 3-byte jamo into one syllable; the compatibility forms map 4-byte
            // mathematical letters to ASCII; NFD maps a few 3-byte singletons (U+2126) to 2 bytes.
            case Step::Form: bound *= st->form == UnicodeForm::NFC ? 3 : st->form == UnicodeForm::NFD ? 1.5 : 4; break;
            case Step::Replace:
                if (st->pattern->is_literal() && !st->content.empty())
                    bound *= std::max(1.0, double(st->pattern->pcre2_pattern().size()) / double(st->content.size()));
                else
                    bound = kUnbounded;
                break;
            case Step::Prepend: break;
            case Step::Strip: bound = kUnbounded; break;
            case Step::Lowercase: bound *= 3; break;  // the Kelvin sign K (3 bytes) -> k
        }
    }
    return bound;
}

}  // namespace dimple::text
