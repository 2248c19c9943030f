// The answer's text as it becomes final during decoding: the longest prefix of the answer whose
// positions are all committed is final (committed tokens never change), so its text can be sent.
// Text stops at an end id (eos) or at the first stop string; the bytes of an incomplete UTF-8 sequence and a
// tail that may be the start of a stop string are held back until they are decided. Streaming and
// non-streaming responses both take their text from here, so the two are the same text.
#pragma once

#include <string>
#include <vector>

#include "io/config.h"
#include "text/tokenizer.h"

namespace dimple::server {

class AnswerText {
public:
    // `end_ids`: the ids an answer ends at (the model family's: eos; LLaDA also <|eot_id|>); empty: eos.
    AnswerText(const text::Tokenizer& tokenizer, const SpecialIds& ids, std::vector<std::string> stop,
               std::vector<int64_t> end_ids = {});

    // Reads the answer after a step (masks in place); returns the text that became final.
    std::string update(const std::vector<int64_t>& answer);
    // Reads the last answer of a finished decoding; returns the rest of the text.
    std::string finish(const std::vector<int64_t>& answer);

    // Nothing more can follow: eos or a stop string was reached.
    bool ended() const { return eos_ || stopped_; }
    // "length" only when the answer filled every position with text: one that ended in padding,
    // eos or not, stopped short of max_tokens.
    const char* finish_reason() const { return ended() || padded_ ? "stop" : "length"; }
    const std::string& text() const { return text_; }  // the whole text so far, sent or held back
    int64_t tokens() const { return tokens_; }           // answer tokens that made the text

private:
    std::string release(bool final);

    const text::Tokenizer* tok_;
    text::StreamDecoder decoder_;
    SpecialIds ids_;
    std::vector<std::string> stop_;
    std::vector<int64_t> end_;
    size_t consumed_ = 0, sent_ = 0;
    int64_t tokens_ = 0;
    bool eos_ = false, stopped_ = false, padded_ = false, finished_ = false;
    std::string text_;
};

}  // namespace dimple::server
