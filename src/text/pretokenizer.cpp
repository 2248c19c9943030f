#include "text/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"

namespace dimple::text {

namespace {

// kQwen2Pattern with every \s spelled out as Unicode White_Space, which is what \s means to the
// Oniguruma engine inside Hugging Face tokenizers; PCRE2's own \s also takes U+180E.
std::string pcre2_pattern() {
    const std::string ws = R"(\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
    return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^)" + ws +
           R"(\p{L}\p{N}]+[\r\n]*|[)" + ws + R"(]*[\r\n]+|[)" + ws + "]+(?![^" + ws + "])|[" + ws +
           "]+";
}

}  // namespace

struct PreTokenizer::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Impl() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer() : impl_(std::make_unique<Impl>()) {
    const std::string pattern = pcre2_pattern();
    int err = 0;
    PCRE2_SIZE offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!impl_->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        fail("pre-tokenizer regex does not compile at offset ", offset, ": ", reinterpret_cast<char*>(msg));
    }
    impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    check(md != nullptr, "out of memory");
    const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
                                  : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md,
                                                nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            fail("pre-tokenizer regex failed (PCRE2 error ", rc, ")");
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        // "Isolated" split: text between matches is a piece too (the pattern leaves none, as
        // every character starts some alternative, but the split is defined that way).
        if (ov[0] > pos) pieces.push_back(text.substr(pos, ov[0] - pos));
        pieces.push_back(text.substr(ov[0], ov[1] - ov[0]));
        pos = ov[1];  // every alternative consumes at least one character
    }
    if (pos < text.size()) pieces.push_back(text.substr(pos));
    pcre2_match_data_free(md);
}

}  // namespace dimple::text
