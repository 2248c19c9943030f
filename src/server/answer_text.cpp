#include "server/answer_text.h"

#include <algorithm>

namespace dimple::server {

AnswerText::AnswerText(const text::Tokenizer& tokenizer, const SpecialIds& ids, std::vector<std::string> stop,
                       std::vector<int64_t> end_ids)
    : tok_(&tokenizer), decoder_(tokenizer, true), ids_(ids), stop_(std::move(stop)), end_(std::move(end_ids)) {
    if (end_.empty()) end_.push_back(ids.eos);
}

std::string AnswerText::update(const std::vector<int64_t>& answer) {
    // While decoding, a mask is a position not decided yet; once finished, a mask left in the answer
    // (LLaDA can commit the mask id itself, which stays a mask) adds no text.
    while (!ended() && consumed_ < answer.size() && (finished_ || answer[consumed_] != ids_.mask)) {
        const int64_t id = answer[consumed_++];
        if (id == ids_.mask) continue;
        if (std::find(end_.begin(), end_.end(), id) != end_.end()) {
            eos_ = true;
            break;
        }
        // A model's vocabulary may be larger than its tokenizer's: ids that name no token add no text.
        padded_ = padded_ || id == ids_.pad;
        if (id == ids_.pad || tok_->token_text(int32_t(id)).empty()) continue;
        ++tokens_;
        text_ += decoder_.feed(int32_t(id));
        // A stop string ends the text where it starts.
        size_t cut = std::string::npos;
        for (const std::string& s : stop_) cut = std::min(cut, text_.find(s, sent_ > s.size() ? sent_ - s.size() : 0));
        if (cut != std::string::npos) {
            text_.resize(std::max(cut, sent_));
            stopped_ = true;
        }
    }
    return release(ended());
}

std::string AnswerText::finish(const std::vector<int64_t>& answer) {
    finished_ = true;
    std::string out = update(answer);
    if (!stopped_) text_ += decoder_.finish();
    return out + release(true);
}

// The text not sent yet, less (unless final) a tail that a stop string may start with, cut back
// to a whole UTF-8 character.
std::string AnswerText::release(bool final) {
    size_t end = text_.size();
    if (!final) {
        size_t hold = 0;
        for (const std::string& s : stop_)
            for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k)
                if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
                    hold = k;
                    break;
                }
        end -= hold;
        while (end > sent_ && end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) --end;
    }
    if (end <= sent_) return {};
    std::string out = text_.substr(sent_, end - sent_);
    sent_ = end;
    return out;
}

}  // namespace dimple::server
