// The Qwen2 byte-level BPE tokenizer (Qwen2, Qwen2.5(-VL), Dream, Dimple), id for id the same as
// Hugging Face's:
//   encode: added tokens are cut out of the raw text first (longest match at the leftmost place,
//           never split), each stretch between them is NFC-normalized, split by the Qwen2 regex,
//           and each piece is byte-pair encoded on its UTF-8 bytes;
//   decode: the tokens' bytes are concatenated and read as UTF-8, invalid sequences becoming U+FFFD.
// Invalid UTF-8 given to encode() is not an error: it is first repaired the same way (each maximal
// invalid subsequence -> U+FFFD), as Hugging Face's Rust code does with from_utf8_lossy, so a
// stray byte from a user or a file costs one replacement character, not the request.
// A loaded Tokenizer is safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/bpe.h"
#include "text/pretokenizer.h"

namespace dimple::text {

struct TokenizerFiles;

class Tokenizer {
public:
    // Loads a folder holding tokenizer.json, or vocab.json + merges.txt; tokenizer_config.json's
    // added_tokens_decoder, when present, adds tokens to either (e.g. Dream's <|mask|>).
    static Tokenizer load(const std::string& dir);

    std::vector<int32_t> encode(std::string_view text) const;
    // The same for a caller with a limit: once the text is known to take more than `max_tokens`
    // tokens, encoding stops and the result holds more than `max_tokens` ids (not the text's own);
    // a text far too long is refused from its length alone, before any encoding (a server's 10 MB
    // prompt cost 1.6 s of encoding before its 4096-token limit refused it).
    std::vector<int32_t> encode(std::string_view text, size_t max_tokens) const;
    // Throws dimple::Error for an id that names no token.
    std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

    // The id of a token given as written in the vocabulary ("Ġthe", "<|im_end|>"), -1 if absent.
    int32_t token_id(std::string_view token) const;
    // The token as written in the vocabulary; empty for an id that names no token.
    std::string_view token_text(int32_t id) const;
    // The raw bytes token `id` stands for (what decode() concatenates); empty if none.
    std::string_view token_bytes(int32_t id) const;
    int32_t vocab_size() const { return int32_t(tokens_.size()); }  // one past the highest id
    bool is_special(int32_t id) const;

private:
    struct Token {
        std::string text;   // as in the vocabulary
        std::string bytes;  // what it decodes to
        bool exists = false, special = false;
    };
    struct AddedToken {
        std::string content;
        int32_t id;
    };

    explicit Tokenizer(const TokenizerFiles& files);
    // Appends the ids of a stretch of text that holds no added token, stopping once `out` holds
    // more than `limit`.
    void encode_plain(std::string_view text, std::vector<int32_t>& out, size_t limit) const;
    // Appends the bytes of `ids`; throws for an id that names no token.
    void append_bytes(std::span<const int32_t> ids, bool skip_special, std::string& out) const;

    std::vector<Token> tokens_;
    std::unordered_map<std::string, int32_t> ids_;  // by vocabulary text
    Bpe bpe_;
    PreTokenizer pretokenizer_;
    std::vector<AddedToken> added_;  // longest first, for leftmost-longest matching
    bool added_first_byte_[256] = {};
    size_t max_token_bytes_ = 1;  // the most text bytes one token stands for (added tokens included)

    // The ids of pieces already encoded (words recur: most of English text hits it), as Hugging
    // Face keeps one too. Bounded: once full, new pieces are encoded but not remembered.
    struct PieceCache {
        struct Hash {
            using is_transparent = void;
            size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
        };
        std::mutex mu;
        std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
    };
    std::unique_ptr<PieceCache> cache_ = std::make_unique<PieceCache>();

    friend class StreamDecoder;
};

// Turns ids into text as they arrive (a denoising display, server streaming): each call returns
// the text that became complete, holding back the bytes of a UTF-8 sequence that later tokens may
// still finish. The pieces joined, with finish(), equal decode() of all the ids.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
        : tok_(&tokenizer), skip_special_(skip_special) {}

    std::string feed(int32_t id) { return feed(std::span<const int32_t>(&id, 1)); }
    std::string feed(std::span<const int32_t> ids);
    // The held-back bytes, as U+FFFD (they can no longer be completed); resets the decoder.
    std::string finish();

private:
    const Tokenizer* tok_;
    bool skip_special_;
    std::string pending_;
};

}  // namespace dimple::text
