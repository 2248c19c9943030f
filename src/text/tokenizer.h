// A Hugging Face BPE tokenizer, id for id the same as Hugging Face's tokenizers: Qwen2's (Qwen2,
// Qwen2.5(-VL), Dream, Dimple), Llama 3's and LLaDA's byte-level BPE, Gemma's SentencePiece-style
// BPE, or any other tokenizer.json whose steps dimple supports (text/tokenizer_files.h says which):
//   encode: added tokens are cut out of the raw text first (leftmost match, the longest there,
//           never split; text/added_tokens.h), each stretch between them is normalized
//           (text/normalizer.h), split into pieces (text/pretokenizer.h), and each piece is byte-pair
//           encoded (text/bpe_model.h); encode() adds no special tokens (the post-processor's are
//           facts: special_prefix(), special_suffix());
//   decode: the tokens go through tokenizer.json's decoder (text/decoder.h; for byte-level BPE their
//           bytes are concatenated and read as UTF-8, invalid sequences becoming U+FFFD).
// Invalid UTF-8 given to encode() is not an error: it is first repaired the same way (each maximal
// invalid subsequence -> U+FFFD), as Hugging Face's Rust code does with from_utf8_lossy, so a
// stray byte from a user or a file costs one replacement character, not the request.
// A loaded Tokenizer is safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe_model.h"
#include "text/decoder.h"
#include "text/normalizer.h"
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
    // The text token `id` adds in the middle of a decode, as raw bytes (for byte-level BPE its
    // bytes; a <0xHH> token its byte); empty if none.
    std::string_view token_bytes(int32_t id) const;
    int32_t vocab_size() const { return int32_t(tokens_.size()); }  // one past the highest id
    bool is_special(int32_t id) const;

    // What Hugging Face's default call (add_special_tokens) puts before and after a text's ids,
    // from tokenizer.json's post-processor: Gemma's [<bos>], none for Qwen2. encode() adds none.
    const std::vector<int32_t>& special_prefix() const { return prefix_; }
    const std::vector<int32_t>& special_suffix() const { return suffix_; }
    // Whether tokenizer_config.json asks transformers' decode() to clean up spaces before
    // punctuation (clean_up_spaces() below), which decode() itself, like Hugging Face's tokenizers,
    // does not do.
    bool cleans_up_spaces() const { return clean_up_spaces_; }

private:
    struct Token {
        std::string text;   // as in the vocabulary
        std::string bytes;  // what it adds in the middle of a decode (token_bytes)
        bool exists = false, special = false, in_model = false;
    };

    explicit Tokenizer(TokenizerFiles& files);
    // Appends the ids of a stretch of raw text that holds no added token, stopping once `out`
    // holds more than `limit`. `at_origin`: whether the stretch begins the text.
    void encode_plain(std::string_view text, bool at_origin, std::vector<int32_t>& out, size_t limit) const;
    // Appends the ids of normalized text's pieces, as encode_plain.
    void encode_pieces(std::string_view normalized, bool at_origin, std::vector<int32_t>& out, size_t limit) const;
    // Checks that `id` names a token.
    const Token& token(int32_t id) const;

    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::vector<Token> tokens_;
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;  // by vocabulary text
    Normalizer normalizer_;
    PreTokenizer pretokenizer_;
    BpeModel model_;
    Decoder decoder_;
    AddedTokenMatcher added_;             // matched in the raw text
    AddedTokenMatcher added_normalized_;  // matched in the normalized text
    std::vector<int32_t> prefix_, suffix_;
    bool clean_up_spaces_ = false;
    size_t max_token_bytes_ = 1;  // the most text bytes one token stands for (added tokens included)
    // The most raw-text bytes one token may stand for, for refusing a text far too long from its
    // length alone; 0 where no bound holds (a step may delete text or fuse unknown characters).
    double max_raw_bytes_per_token_ = 0;
    bool pieces_bounded_ = false;  // each piece takes at least its size / max_token_bytes_ tokens

    friend class StreamDecoder;
};

// transformers' clean_up_tokenization: " ." " ?" " !" " ," " ' " " n't" " 'm" " 's" " 've" " 're"
// lose their space, in that order, for a tokenizer whose config asks (cleans_up_spaces()).
std::string clean_up_spaces(std::string_view text);

// Turns ids into text as they arrive (a denoising display, server streaming): each call returns
// the text that became complete, holding back what later tokens may still change (the bytes of an
// unfinished UTF-8 sequence, a run of byte tokens). The pieces joined, with finish(), equal
// decode() of all the ids.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
        : tok_(&tokenizer), skip_special_(skip_special), stream_(tokenizer.decoder_) {}

    std::string feed(int32_t id) { return feed(std::span<const int32_t>(&id, 1)); }
    std::string feed(std::span<const int32_t> ids);
    // What was held back, settled as the end of the text (unfinished bytes become U+FFFD); resets
    // the decoder.
    std::string finish();

private:
    const Tokenizer* tok_;
    bool skip_special_;
    Decoder::Stream stream_;
};

}  // namespace dimple::text
