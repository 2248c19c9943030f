#include "decode/priors.h"

#include <charconv>

#include "core/error.h"

namespace dimple {

namespace {

bool parse_int(std::string_view s, int64_t* out) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::vector<TemplatePiece> parse_answer_template(std::string_view t) {
    std::vector<TemplatePiece> pieces;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) pieces.push_back({std::move(literal), 0});
        literal.clear();
    };
    for (size_t i = 0; i < t.size();) {
        if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '<') {
            literal += '<';
            i += 2;
            continue;
        }
        if (t.substr(i, 5) != "<mask") {
            literal += t[i++];
            continue;
        }
        const size_t close = t.find('>', i);
        check(close != std::string_view::npos, "answer template: unclosed '<mask' at offset ", i);
        const std::string_view tag = t.substr(i + 5, close - i - 5);  // "" or ":N"
        int64_t n = 1;
        if (!tag.empty()) {
            check(tag[0] == ':' && parse_int(tag.substr(1), &n), "answer template: malformed tag '",
                  t.substr(i, close - i + 1), "' at offset ", i, " (expected <mask> or <mask:N>)");
            check(n >= 1 && n <= 65536, "answer template: mask count ", n, " at offset ", i,
                  " must be in [1, 65536]");
        }
        flush();
        if (!pieces.empty() && pieces.back().text.empty()) pieces.back().masks += n;
        else pieces.push_back({"", n});
        i = close + 1;
    }
    flush();
    return pieces;
}

std::map<int64_t, int64_t> template_priors(const std::vector<TemplatePiece>& pieces, const Encoder& encode,
                                           int64_t max_new_tokens) {
    std::map<int64_t, int64_t> fixed;
    int64_t pos = 0;
    for (const TemplatePiece& p : pieces) {
        if (pos > max_new_tokens) break;  // too long already: the rest need not be encoded
        if (p.text.empty()) {
            pos += p.masks;
        } else {
            for (int32_t id : encode(p.text)) {
                if (pos < max_new_tokens) fixed[pos] = id;
                ++pos;
            }
        }
    }
    check(pos <= max_new_tokens, "answer template needs ", pos, " tokens but only ", max_new_tokens,
          " new tokens are generated (raise --max-new-tokens)");
    return fixed;
}

void add_length_prior(std::map<int64_t, int64_t>& fixed, int64_t length, int64_t max_new_tokens,
                      int64_t eos, int64_t pad) {
    check(length >= 0 && length < max_new_tokens, "answer length ", length, " must be below --max-new-tokens (",
          max_new_tokens, ")");
    check(eos >= 0 && pad >= 0, "the model config lacks eos/pad ids needed for a fixed length");
    for (int64_t p = length; p < max_new_tokens; ++p) {
        const auto it = fixed.find(p);
        check(it == fixed.end(), "answer length ", length, " conflicts with a template token at ", p);
        fixed[p] = p == length ? eos : pad;
    }
}

std::map<int64_t, int64_t> parse_fixed_ids(std::string_view spec) {
    std::map<int64_t, int64_t> fixed;
    size_t start = 0;
    while (start < spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string_view::npos) end = spec.size();
        const std::string_view item = spec.substr(start, end - start);
        const size_t colon = item.find(':');
        int64_t offset = 0, id = 0;
        check(colon != std::string_view::npos && parse_int(item.substr(0, colon), &offset) &&
                  parse_int(item.substr(colon + 1), &id),
              "--fix-ids: '", item, "' is not OFFSET:ID");
        fixed[offset] = id;
        start = end + 1;
    }
    return fixed;
}

}  // namespace dimple
