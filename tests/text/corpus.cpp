#include "corpus.h"

#include <array>
#include <functional>
#include <random>
#include <string_view>

#include "text/utf8.h"

namespace dtest {

namespace {

using dimple::text::append_utf8;

struct Gen {
    std::mt19937_64 rng;
    const std::vector<std::string>& specials;

    size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
    template <typename T, size_t N>
    const T& pick(const std::array<T, N>& a) { return a[below(N)]; }
    void cp_in(std::string& s, char32_t lo, char32_t hi) { append_utf8(lo + char32_t(below(hi - lo + 1)), s); }

    std::string word() {
        static constexpr std::array<std::string_view, 48> words = {
            "the", "of", "and", "to", "in", "is", "that", "it", "was", "for", "on", "are", "with", "as",
            "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "word", "but",
            "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use",
            "your", "how", "said", "an", "each", "tokenizer", "diffusion", "multimodal", "Hello"};
        std::string w(pick(words));
        if (chance(0.15)) w[0] = char(std::toupper(uint8_t(w[0])));
        if (chance(0.03))
            for (char& c : w) c = char(std::toupper(uint8_t(c)));
        return w;
    }

    std::string prose() {
        std::string s;
        const size_t n = 3 + below(25);
        for (size_t i = 0; i < n; ++i) {
            if (i) s += chance(0.1) ? ", " : " ";
            s += word();
            if (chance(0.05)) s += std::to_string(below(100000));
            if (chance(0.04)) s += pick(std::array<std::string_view, 6>{"'s", "'t", "'re", "'ll", "n't", "'ve"});
        }
        s += pick(std::array<std::string_view, 6>{".", "!", "?", "...", ".\n", "\u2026"});
        return s;
    }

    std::string code() {
        static constexpr std::array<std::string_view, 14> lines = {
            "int main(int argc, char** argv) {", "    return 0;", "}", "def f(x):", "\treturn x**2 + 1",
            "for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];", "const x = {a: 1, 'b': [2, 3]};",
            "if x != None and len(x) >= 10:  # comment", "#include <vector>", "    print(f\"{name!r}: {v:.3f}\")",
            "SELECT id, name FROM users WHERE age > 18;", "x = y ?? z; // null-coalescing",
            "fn main() -> Result<(), Box<dyn Error>> {", "<div class=\"a\">&nbsp;</div>"};
        std::string s;
        const size_t n = 1 + below(8);
        for (size_t i = 0; i < n; ++i) {
            if (i) s += chance(0.2) ? "\r\n" : "\n";
            if (chance(0.3)) s += std::string(below(9), chance(0.5) ? ' ' : '\t');
            s += pick(lines);
        }
        return s;
    }

    std::string script() {
        std::string s;
        const size_t words = 1 + below(12);
        const size_t kind = below(7);
        for (size_t w = 0; w < words; ++w) {
            if (w) s += kind < 2 && chance(0.7) ? "" : " ";
            const size_t len = 1 + below(8);
            for (size_t i = 0; i < len; ++i) switch (kind) {
                    case 0: cp_in(s, 0x4E00, 0x9FA5); break;  // CJK ideographs
                    case 1: chance(0.5) ? cp_in(s, 0x3041, 0x3096) : cp_in(s, 0x30A1, 0x30FA); break;  // kana
                    case 2: cp_in(s, 0xAC00, 0xD7A3); break;  // Hangul syllables
                    case 3:  // Arabic letters, some with harakat
                        cp_in(s, 0x0627, 0x064A);
                        if (chance(0.2)) cp_in(s, 0x064B, 0x0652);
                        break;
                    case 4:  // Devanagari consonants with vowel signs and virama
                        cp_in(s, 0x0915, 0x0939);
                        if (chance(0.4)) cp_in(s, 0x093E, 0x094D);
                        break;
                    case 5: cp_in(s, 0x0410, 0x044F); break;  // Cyrillic
                    default: cp_in(s, 0x03B1, 0x03C9); break;  // Greek
                }
            if (chance(0.1)) s += pick(std::array<std::string_view, 8>{"\u3002", "\uFF0C", "\u060C", "\u0964", ",", ".", "\u061F", "\uFF01"});
        }
        if (kind == 3 && chance(0.3)) cp_in(s, 0x0660, 0x0669);  // Arabic-Indic digits
        if (kind == 4 && chance(0.3)) cp_in(s, 0x0966, 0x096F);
        return s;
    }

    std::string emoji() {
        static constexpr std::array<std::string_view, 12> seqs = {
            "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466",  // family (ZWJ)
            "\U0001F469\U0001F3FD\u200D\U0001F4BB",  // woman technologist, skin tone
            "\U0001F3F3\uFE0F\u200D\U0001F308",     // rainbow flag
            "\U0001F1EF\U0001F1F5",                 // flag: regional indicators
            "1\uFE0F\u20E3", "\u2764\uFE0F", "\U0001F44D\U0001F3FF", "\U0001F9D1\u200D\U0001F680",
            "\U0001F602", "\U0001F525", "\u263A", "\U0001F926\U0001F3FB\u200D\u2640\uFE0F"};
        std::string s;
        const size_t n = 1 + below(6);
        for (size_t i = 0; i < n; ++i) {
            if (chance(0.4)) s += word() + (chance(0.5) ? " " : "");
            if (chance(0.5)) s += pick(seqs);
            else cp_in(s, 0x1F600, 0x1F64F);
        }
        return s;
    }

    // Text NFC changes: decomposed accents, marks out of canonical order, Hangul jamo, and
    // compatibility characters NFC must leave alone.
    std::string combining() {
        std::string s;
        const size_t n = 1 + below(10);
        for (size_t i = 0; i < n; ++i) {
            switch (below(5)) {
                case 0:
                    s += char('a' + below(26));
                    for (size_t k = below(3) + 1; k > 0; --k) cp_in(s, 0x0300, 0x036F);
                    break;
                case 1: s += pick(std::array<std::string_view, 5>{"e\u0301", "A\u030A", "n\u0303", "o\u0308", "c\u0327"}); break;
                case 2: s += pick(std::array<std::string_view, 3>{"q\u0307\u0323", "\u1E0B\u0323", "s\u0323\u0307"}); break;
                case 3:  // a Hangul syllable as conjoining jamo
                    cp_in(s, 0x1100, 0x1112), cp_in(s, 0x1161, 0x1175);
                    if (chance(0.5)) cp_in(s, 0x11A8, 0x11C2);
                    break;
                default: s += pick(std::array<std::string_view, 6>{"\uFB01", "\u2126", "\u212B", "\u00C5", "\u0958", "\uFF21"}); break;
            }
            if (chance(0.3)) s += ' ';
        }
        return s;
    }

    // Korean as NFC sees it: modern syllables, conjoining jamo (which compose), an LV syllable
    // before a trailing consonant or before U+11A7 (which must not compose: utf8proc 2.8 dropped
    // it), historic jamo (old initials, medials and finals, Jamo Extended-A and -B, which never
    // compose), fillers, and compatibility and halfwidth jamo (which NFC leaves alone).
    std::string hangul() {
        std::string s;
        const size_t n = 1 + below(8);
        for (size_t i = 0; i < n; ++i) {
            switch (below(8)) {
                case 0: cp_in(s, 0xAC00, 0xD7A3); break;
                case 1:
                    cp_in(s, 0x1100, 0x1112), cp_in(s, 0x1161, 0x1175);
                    if (chance(0.5)) cp_in(s, 0x11A7, 0x11C2);
                    break;
                case 2:  // an LV syllable (no trailing consonant), then U+11A7 or a final
                    append_utf8(0xAC00 + 28 * char32_t(below(399)), s);
                    cp_in(s, 0x11A7, chance(0.5) ? 0x11A7 : 0x11C2);
                    break;
                case 3: cp_in(s, 0x1113, 0x115F), cp_in(s, 0x1176, 0x11A7), cp_in(s, 0x11C3, 0x11FF); break;
                case 4: cp_in(s, 0xA960, 0xA97C), cp_in(s, 0xD7B0, 0xD7C6), cp_in(s, 0xD7CB, 0xD7FB); break;
                case 5: s += pick(std::array<std::string_view, 4>{"\u115F\u1161", "\u1100\u1160", "\u3164", "\uFFA0"}); break;
                case 6: cp_in(s, 0x3131, 0x318E); break;
                default: cp_in(s, 0xFFA1, 0xFFDC); break;
            }
            if (chance(0.25)) s += chance(0.5) ? " " : ".";
        }
        return s;
    }

    std::string digits() {
        std::string s;
        const size_t n = 1 + below(5);
        for (size_t i = 0; i < n; ++i) {
            switch (below(5)) {
                case 0: s += std::to_string(rng()); break;
                case 1: s += std::to_string(below(1000)) + "." + std::to_string(below(100000)); break;
                case 2: s += word() + std::to_string(below(1000)) + word(); break;
                case 3: s += pick(std::array<std::string_view, 6>{"\uFF11\uFF12\uFF13", "\u00B2", "\u216B", "\u00BD", "\u2460\u2461", "+1 (555) 010-9999"}); break;
                default: s += std::string(1 + below(40), char('0' + below(10))); break;
            }
            if (chance(0.5)) s += ' ';
        }
        return s;
    }

    std::string whitespace() {
        static constexpr std::array<std::string_view, 10> ws = {" ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00A0", "\u3000", "\u2009"};
        std::string s;
        const size_t n = 1 + below(10);
        for (size_t i = 0; i < n; ++i) {
            for (size_t k = below(5); k > 0; --k) s += pick(ws);
            if (chance(0.7)) s += chance(0.2) ? std::string("!?") : word();
        }
        if (chance(0.5)) s += std::string(1 + below(6), ' ');
        if (chance(0.2)) s += "\n";
        return s;
    }

    std::string contractions() {
        static constexpr std::array<std::string_view, 16> c = {
            "'s", "'S", "'t", "'T", "'re", "'RE", "'rE", "'ve", "'Ve", "'m", "'M", "'ll", "'LL", "'lL", "'d", "'D"};
        std::string s;
        const size_t n = 1 + below(6);
        for (size_t i = 0; i < n; ++i) {
            if (i) s += chance(0.8) ? " " : "";
            s += pick(std::array<std::string_view, 8>{"I", "you", "WE", "they", "It", "she", "don", "O"});
            s += pick(c);
            if (chance(0.2)) s += pick(std::array<std::string_view, 4>{"\u2019s", "''", "'", "'x"});
        }
        return s;
    }

    std::string with_specials() {
        std::string s;
        const size_t n = 1 + below(5);
        for (size_t i = 0; i < n; ++i) {
            if (chance(0.6)) s += pick(std::array<std::string_view, 4>{"text", " spaced ", "\n", "x"});
            const std::string& sp = specials[below(specials.size())];
            switch (below(6)) {
                case 0: {  // almost a token: all but its last character
                    size_t cut = sp.size() - 1;
                    while (cut > 0 && (uint8_t(sp[cut]) & 0xC0) == 0x80) --cut;
                    s += sp.substr(0, cut);
                    break;
                }
                case 1: s += "<" + sp + ">"; break;
                default: s += sp; break;
            }
        }
        return s;
    }

    // Random code points from blocks every Unicode version involved agrees on, ASCII controls too.
    std::string soup() {
        static constexpr std::array<std::pair<char32_t, char32_t>, 16> blocks = {{
            {0x01, 0x7F}, {0xA0, 0x17E}, {0x180, 0x2FF}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF},
            {0x5D0, 0x5EA}, {0x621, 0x6FF}, {0x900, 0x97F}, {0xE01, 0xE5B}, {0x1E00, 0x1EFF},
            {0x2000, 0x2064}, {0x2100, 0x22FF}, {0x3000, 0x30FF}, {0xFF01, 0xFF9F}, {0x1F300, 0x1F5FF}}};
        std::string s;
        const size_t n = 1 + below(30);
        for (size_t i = 0; i < n; ++i) {
            const auto& [lo, hi] = pick(blocks);
            cp_in(s, lo, hi);
        }
        return s;
    }

    std::string long_piece() {
        switch (below(4)) {
            case 0: return std::string(2000 + below(6000), char('a' + below(26)));
            case 1: return std::string("x").append(1000 + below(4000), ' ').append("y");
            case 2: return std::string(1000 + below(3000), '9');
            default: {
                std::string s;
                while (s.size() < 4000) s += prose() + " " + script() + " ";
                return s;
            }
        }
    }

    std::string any() {
        switch (below(11)) {
            case 0: return prose();
            case 1: return code();
            case 2: return script();
            case 3: return emoji();
            case 4: return combining();
            case 5: return digits();
            case 6: return whitespace();
            case 7: return contractions();
            case 8: return with_specials();
            case 9: return soup();
            default: return word();
        }
    }
};

}  // namespace

std::vector<std::string> make_corpus(size_t count, uint64_t seed, const std::vector<std::string>& specials) {
    Gen g{std::mt19937_64(seed), specials};
    std::vector<std::string> out;
    out.reserve(count);
    out.emplace_back();
    const std::array<std::function<std::string()>, 13> kinds = {
        [&] { return g.prose(); },        [&] { return g.code(); },         [&] { return g.script(); },
        [&] { return g.emoji(); },        [&] { return g.combining(); },    [&] { return g.digits(); },
        [&] { return g.whitespace(); },   [&] { return g.contractions(); }, [&] { return g.with_specials(); },
        [&] { return g.soup(); },         [&] { return g.hangul(); },
        [&] { return g.any() + g.any() + g.any(); },  // mixtures
        [&] { return g.chance(0.02) ? g.long_piece() : g.any(); }};
    while (out.size() < count) out.push_back(kinds[out.size() % kinds.size()]());
    return out;
}

std::string make_mixed_text(size_t bytes, uint64_t seed) {
    const std::vector<std::string> specials = {"<|im_start|>", "<|im_end|>", "<|endoftext|>"};
    Gen g{std::mt19937_64(seed), specials};
    std::string s;
    while (s.size() < bytes) {
        std::string para;
        // Mostly prose and code, as prompts are; the other kinds in smaller shares.
        for (size_t k = 0; k < 8; ++k) {
            const size_t r = g.below(20);
            para += r < 8 ? g.prose() : r < 12 ? g.code() : r < 15 ? g.script() : g.any();
            para += ' ';
        }
        for (char& c : para)
            if (c == '\n' || c == '\r') c = ' ';  // one paragraph a line
        s += para + "\n";
    }
    return s;
}

}  // namespace dtest
