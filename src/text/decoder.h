// A tokenizer.json's "decoder": tokens (as the vocabulary writes them) back to text, with the
// semantics of Hugging Face's tokenizers (Rust), step by step:
//   ByteLevel     each token's byte-level characters to bytes, all joined, invalid UTF-8 becoming
//                 U+FFFD per maximal invalid sequence (a token outside the alphabet is its own bytes);
//   ByteFallback  runs of <0xHH> tokens to the text their bytes spell, or one U+FFFD per byte when
//                 a run is not valid UTF-8 (the JavaScript port replaces per invalid sequence);
//   Replace       a literal or regex, in each token;
//   Strip         up to `start` leading and `stop` trailing `content` characters off each token;
//   Metaspace     the replacement character to a space, and dropped in the first token unless
//                 prepend_scheme is never;
//   Fuse          all tokens joined into one, so the steps after it see the whole text;
//   Sequence      the steps in order; no decoder at all joins the tokens with spaces.
// Decoding runs incrementally (Stream): what a step can only settle later (an unfinished UTF-8
// sequence, a run of byte tokens, trailing characters Strip may take) is held back, so streaming
// and decoding at once give the same text by construction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dimple::text {

class Decoder {
public:
    Decoder();  // ByteLevel (Qwen2's)
    Decoder(Decoder&&) noexcept;
    Decoder& operator=(Decoder&&) noexcept;
    ~Decoder();

    // null is no decoder (tokens joined with spaces). Throws dimple::Error naming `where` and what
    // it does not support.
    static Decoder from_json(const nlohmann::json& j, const std::string& where);

    // Whether decoding is ByteLevel alone: then the text is the tokens' bytes joined (fast path).
    bool byte_level_only() const;

    // What one token adds to text in the middle of a decode, as bytes: for a display that lays out
    // tokens one by one (a <0xHH> token is its byte; whole-text steps after Fuse are left out).
    std::string middle_piece(std::string_view token) const;

    class Stream {
    public:
        explicit Stream(const Decoder& d);
        // Appends the text that `token` (vocabulary text) completes; `bytes`: its bytes by the
        // byte-level alphabet (what the first ByteLevel step makes of it, precomputed).
        void push(std::string_view token, std::string_view bytes, std::string& out);
        // Appends what was held back, settled as the end of the text; the stream starts over.
        void finish(std::string& out);

    private:
        struct State {
            std::string held;         // what the step holds back
            size_t count = 0;         // tokens seen (Metaspace, no decoder); leading characters stripped (Strip)
            bool past_start = false;  // Strip on joined text: a character it keeps has been seen
        };
        void emit(size_t step, std::string_view piece, std::string& out);
        // Settles what `step` holds; with `cascade`, then every later step's too, as at the end.
        void flush(size_t step, std::string& out, bool cascade);
        const Decoder* d_;
        std::vector<State> state_;
        std::string_view bytes_;  // the current token's precomputed bytes
    };

private:
    struct Step;
    std::vector<std::shared_ptr<const Step>> steps_;
    void add(const nlohmann::json& j, const std::string& where);
};

}  // namespace dimple::text
