#include "text/added_tokens.h"

#include <utf8proc.h>

#include "text/utf8.h"

namespace dimple::text {

namespace {

// The Rust regex crate's Unicode \w, which single_word's test uses: letters, marks, decimal and
// letter numbers, connector punctuation and the joiners.
bool is_word(char32_t c) {
    switch (utf8proc_category(utf8proc_int32_t(c))) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_PC: return true;
        default: return c == 0x200C || c == 0x200D;
    }
}

// The start of the code point that ends at `end` (> 0).
size_t previous_start(std::string_view s, size_t end) {
    size_t b = end - 1;
    while (b > 0 && (uint8_t(s[b]) & 0xC0) == 0x80) --b;
    return b;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
    ends_.push_back(-1);  // the root
    for (size_t t = 0; t < tokens_.size(); ++t) {
        const std::string& c = tokens_[t].content;
        if (c.empty()) continue;
        int32_t node = 0;
        for (char ch : c) {
            const uint64_t key = uint64_t(node) << 8 | uint8_t(ch);
            auto it = edges_.find(key);
            if (it == edges_.end()) {
                it = edges_.emplace(key, int32_t(ends_.size())).first;
                ends_.push_back(-1);
            }
            node = it->second;
        }
        ends_[size_t(node)] = int32_t(t);  // a content listed twice: the later one, as a map would keep
        first_byte_[uint8_t(c[0])] = true;
        max_length_ = std::max(max_length_, c.size());
        strips_ = strips_ || tokens_[t].lstrip || tokens_[t].rstrip;
    }
}

int32_t AddedTokenMatcher::longest_at(std::string_view text) const {
    int32_t node = 0, found = -1;
    for (char ch : text) {
        auto it = edges_.find(uint64_t(node) << 8 | uint8_t(ch));
        if (it == edges_.end()) break;
        node = it->second;
        if (ends_[size_t(node)] >= 0) found = ends_[size_t(node)];
    }
    return found;
}

bool AddedTokenMatcher::next(std::string_view text, size_t from, Match& m) const {
    for (size_t i = from; i < text.size(); ++i) {
        if (!first_byte_[uint8_t(text[i])]) continue;
        const int32_t t = longest_at(text.substr(i));
        if (t < 0) continue;
        const AddedToken& tok = tokens_[size_t(t)];
        size_t start = i, end = i + tok.content.size();
        if (tok.single_word) {
            size_t after = end;
            const bool word_before = start > 0 && is_word([&] {
                                         size_t k = previous_start(text, start);
                                         return next_code_point(text, k);
                                     }());
            const bool word_after = end < text.size() && is_word(next_code_point(text, after));
            if (word_before || word_after) {  // not a word of its own: plain text, searched past
                i = end - 1;
                continue;
            }
        }
        if (tok.lstrip)  // the whitespace before it, back to where the previous match ended
            while (start > from) {
                const size_t b = previous_start(text, start);
                size_t k = b;
                if (!is_white_space(next_code_point(text, k))) break;
                start = b;
            }
        if (tok.rstrip)
            for (size_t k = end; k < text.size();) {
                if (!is_white_space(next_code_point(text, k))) break;
                end = k;
            }
        m = {start, end, tok.id};
        return true;
    }
    return false;
}

}  // namespace dimple::text
