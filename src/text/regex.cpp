#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace dimple::text {

namespace {

// Unicode White_Space, which is what \s means to Oniguruma (and so to Hugging Face); PCRE2's own
// \s also takes U+180E, and JavaScript's takes U+FEFF but not U+0085.
constexpr std::string_view kWhiteSpace =
    R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
// Oniguruma's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation and the joiners
// (Alphabetic's few symbols, such as circled letters, aside). PCRE2 10.42's \w lacks the marks.
constexpr std::string_view kWord = R"(\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})";
// Oniguruma's \h is a hexadecimal digit, where PCRE2's is horizontal space.
constexpr std::string_view kHex = "0-9a-fA-F";

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

std::string oniguruma_to_pcre2(std::string_view p, const std::string& where) {
    std::string out;
    out.reserve(p.size() * 2);
    bool in_class = false;
    size_t class_start = 0;  // where the class's items begin (after "[" or "[^")
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char e = p[++i];
            auto set = [&](std::string_view items, bool negated) {
                if (in_class) {
                    check(!negated, where, ": \\", e, " inside a character class is not supported in \"", p, "\"");
                    out += items;
                } else {
                    out.append(negated ? "[^" : "[").append(items).append("]");
                }
            };
            switch (e) {
                case 's': set(kWhiteSpace, false); break;
                case 'S': set(kWhiteSpace, true); break;
                case 'w': set(kWord, false); break;
                case 'W': set(kWord, true); break;
                case 'h': set(kHex, false); break;
                case 'H': set(kHex, true); break;
                case 'u':  // \uHHHH, which PCRE2 spells \x{HHHH}
                    check(i + 4 < p.size() && is_hex(p[i + 1]) && is_hex(p[i + 2]) && is_hex(p[i + 3]) &&
                              is_hex(p[i + 4]),
                          where, ": \\u must be followed by four hexadecimal digits in \"", p, "\"");
                    out.append("\\x{").append(p.substr(i + 1, 4)).append("}");
                    i += 4;
                    break;
                default: out.append(1, '\\').append(1, e); break;
            }
            continue;
        }
        if (in_class) {
            if (c == ']' && i > class_start) {
                in_class = false;
            } else if (c == '[' && !(i + 1 < p.size() && p[i + 1] == ':')) {
                fail(where, ": a character class inside a character class is not supported in \"", p, "\"");
            } else if (c == '&' && i + 1 < p.size() && p[i + 1] == '&') {
                fail(where, ": a class intersection (&&) is not supported in \"", p, "\"");
            } else if (c == '[') {  // a POSIX class such as [:alpha:]: copy it whole
                const size_t end = p.find(":]", i + 2);
                check(end != std::string_view::npos, where, ": unterminated POSIX class in \"", p, "\"");
                out.append(p.substr(i, end + 2 - i));
                i = end + 1;
                continue;
            }
        } else if (c == '[') {
            in_class = true;
            class_start = i + 1 + (i + 1 < p.size() && p[i + 1] == '^');
            out += c;
            if (class_start > i + 1) out += '^';
            i = class_start - 1;
            continue;
        }
        out += c;
    }
    return out;
}

struct Regex::Impl {
    std::string pattern;  // as compiled (or the literal text)
    bool literal = false;
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Impl() { pcre2_code_free(code); }
};

Regex::Regex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Regex Regex::oniguruma(std::string_view pattern, const std::string& where) {
    auto impl = std::make_unique<Impl>();
    impl->pattern = oniguruma_to_pcre2(pattern, where);
    int err = 0;
    PCRE2_SIZE offset = 0;
    impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(impl->pattern.data()), impl->pattern.size(),
                               PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!impl->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        fail(where, ": the regex \"", pattern, "\" does not compile (", reinterpret_cast<char*>(msg), ")");
    }
    impl->jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
    return Regex(std::move(impl));
}

Regex Regex::literal(std::string_view text) {
    auto impl = std::make_unique<Impl>();
    impl->pattern = std::string(text);
    impl->literal = true;
    return Regex(std::move(impl));
}

const std::string& Regex::pcre2_pattern() const { return impl_->pattern; }
bool Regex::is_literal() const { return impl_->literal; }

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const {
    if (impl_->literal) {
        const std::string& lit = impl_->pattern;
        if (lit.empty()) return;
        for (size_t at = text.find(lit); at != std::string_view::npos; at = text.find(lit, at + lit.size()))
            matches.emplace_back(at, at + lit.size());
        return;
    }
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    check(md != nullptr, "out of memory");
    const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        const int rc = impl_->jit
                           ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
                           : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            fail("tokenizer regex failed (PCRE2 error ", rc, ")");
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        if (ov[1] > ov[0]) {
            matches.emplace_back(ov[0], ov[1]);
            pos = ov[1];
        } else {  // an empty match: step over one character
            pos = ov[0] + 1;
            while (pos < text.size() && (uint8_t(text[pos]) & 0xC0) == 0x80) ++pos;
        }
    }
    pcre2_match_data_free(md);
}

std::string Regex::replace_all(std::string_view text, std::string_view content) const {
    std::vector<std::pair<size_t, size_t>> m;
    find_all(text, m);
    if (m.empty()) return std::string(text);
    std::string out;
    out.reserve(text.size() + m.size() * content.size());
    size_t pos = 0;
    for (auto [start, end] : m) {
        out.append(text.substr(pos, start - pos)).append(content);
        pos = end;
    }
    return out.append(text.substr(pos));
}

Regex pattern_from_json(const nlohmann::json& p, const std::string& where) {
    if (p.is_object() && p.contains("String") && p["String"].is_string())
        return Regex::literal(p["String"].get<std::string>());
    if (p.is_object() && p.contains("Regex") && p["Regex"].is_string())
        return Regex::oniguruma(p["Regex"].get<std::string>(), where);
    fail(where, ": \"pattern\" is neither {\"String\": ...} nor {\"Regex\": ...}");
}

}  // namespace dimple::text
