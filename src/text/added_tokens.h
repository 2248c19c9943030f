// Finding a tokenizer's added tokens (<|im_end|>, <start_of_turn>, ...) in text, before anything
// else touches it, as Hugging Face's AddedVocabulary does: the leftmost match wins, and there the
// longest token; a token is never split. Per token, as tokenizer.json sets them:
//   single_word  it matches only between non-word characters (else that text is plain text);
//   lstrip       it takes the whitespace before it; rstrip: the whitespace after it;
//   normalized   it is looked for in the normalized text rather than the raw (a second matcher).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dimple::text {

struct AddedToken {
    std::string content;  // as matched (for a normalized token: its normalized form)
    int32_t id = -1;
    bool single_word = false, lstrip = false, rstrip = false;
};

class AddedTokenMatcher {
public:
    AddedTokenMatcher() = default;
    explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

    bool empty() const { return tokens_.empty(); }
    // The longest content, in bytes (0 when empty).
    size_t max_length() const { return max_length_; }
    // Whether some token takes the whitespace around it (lstrip, rstrip).
    bool strips() const { return strips_; }

    struct Match {
        size_t start, end;  // the text the token stands for, whitespace it strips included
        int32_t id;
    };
    // The first match in valid UTF-8 `text` at or after `from` (where the previous match ended, or
    // 0), false when there is none.
    bool next(std::string_view text, size_t from, Match& m) const;

private:
    // The longest token that `text` starts with, -1 for none.
    int32_t longest_at(std::string_view text) const;

    std::vector<AddedToken> tokens_;
    // A byte trie over the contents: edges by (node << 8 | byte), and the token ending at a node.
    std::unordered_map<uint64_t, int32_t> edges_;
    std::vector<int32_t> ends_;
    bool first_byte_[256] = {};
    size_t max_length_ = 0;
    bool strips_ = false;
};

}  // namespace dimple::text
