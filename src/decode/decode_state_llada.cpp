// The llada pipeline's part of DecodeState (spec llada.md sections 6-7): which masks a step
// predicts, Fast-dLLM's dual cache, the guided and banned logits, the fixed-count or threshold
// commits, stop ids.
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "decode/decode_state.h"
#include "model/kv_cache.h"

namespace dimple {

// The candidates: every mask before the stop position that lies in the prompt (infilling: they compete
// in every block, as the original's mask_index covers the whole row) or before the current block's
// end. A step whose count is 0, or whose block has no candidate left, commits nothing in the
// original either: it is passed over without a forward.
void DecodeState::find_llada_masks() {
    const std::vector<int64_t>& x = res_.sequence;
    const int64_t P = prompt_len(), mask = lm_.config().ids.mask;
    const bool threshold = opt_.threshold && *opt_.threshold > 0;
    mask_pos_.clear();
    for (int64_t p = 0; p < stop_; ++p)
        if (x[size_t(p)] == mask) mask_pos_.push_back(p);
    auto block_masks = [&] {
        return std::count_if(mask_pos_.begin(), mask_pos_.end(),
                             [&](int64_t p) { return p >= P + llada_->first() && p < P + llada_->last(); });
    };
    while (!llada_->done()) {
        if (!llada_->block_begun()) llada_->begin_block(block_masks());
        predict_.clear();
        for (int64_t p : mask_pos_)
            if (p < P + llada_->last()) predict_.push_back(p);
        block_ = llada_->block();  // the dual cache refreshes when it changes
        if (threshold ? block_masks() > 0 : !predict_.empty() && llada_->count() > 0) return;
        if (threshold)
            llada_->end_block();
        else
            llada_->advance();
    }
    predict_.clear();
}

// Fast-dLLM's dual cache (generate_with_dual_cache): each block begins with a pass over the whole
// sequence that keeps every row's keys/values (the prompt's too: LLaDA's prompt rows attend to the
// answer, so they are refreshed with it); the block's other steps feed only its rows, every other
// row's keys/values taken from that pass.
void DecodeState::llada_dual_feed(StepFeed& f, int64_t& first, int64_t& end) {
    const int64_t P = prompt_len(), block_first = P + llada_->first(), block_end = P + llada_->last();
    f.sequence.keep = 0;
    f.sequence.keep_into = nullptr;
    if (dual_refresh_due()) {
        first = 0, end = int64_t(res_.sequence.size());
        f.sequence.past = nullptr;
        f.sequence.keep = end;
        f.sequence.keep_into = &answer_cache_;
        refresh_block_ = block_, refresh_step_ = res_.steps_run, dual_past_built_ = false;
        return;
    }
    if (!dual_past_built_) {
        dual_past_ = answer_cache_;
        std::vector<int64_t> block(size_t(block_end - block_first));
        std::iota(block.begin(), block.end(), block_first);
        drop_rows(dual_past_, 0, block);
        dual_past_built_ = true;
    }
    first = block_first, end = block_end;
    f.sequence.past = &dual_past_;
}

// Guidance, banned ids, then the token and its confidence at each candidate: the argmax (or at
// temperature > 0 a draw from softmax(logits / T), what the original's Gumbel-max computes) and
// the softmax probability of that token, or a uniform draw for random remasking.
std::vector<TokenChoice> DecodeState::llada_choices(const Tensor& logits, const Tensor* unconditional) {
    const int64_t V = lm_.config().vocab_size, rows = logits.dim(0);
    const Tensor* use = &logits;
    Tensor edited;
    if (opt_.cfg_scale > 0 || !opt_.banned_ids.empty()) {
        edited = logits.clone();
        use = &edited;
    }
    if (opt_.cfg_scale > 0) {  // un + (c + 1) (cond - un)
        float* e = edited.data<float>();
        const float* un = unconditional->data<float>();
        const float c = opt_.cfg_scale + 1.f;
        for (int64_t i = 0; i < edited.numel(); ++i) e[i] = un[i] + c * (e[i] - un[i]);
    }
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t id : opt_.banned_ids) edited.row(r)[id] = -std::numeric_limits<float>::infinity();
    std::vector<TokenChoice> choice =
        choose_tokens(use->data<float>(), rows, V, opt_.sampling, ConfidenceKind::Probability, true, opt_.seed,
                      res_.steps_run, predict_);
    if (opt_.remasking == Remasking::Random) {
        const int64_t step = llada_->block() * (opt_.steps / llada_->blocks()) + llada_->step_in_block();
        std::uniform_real_distribution<float> u(0.f, 1.f);
        for (size_t k = 0; k < choice.size(); ++k)
            choice[k].confidence = uniforms_ ? uniforms_(step, predict_[k]) : u(rng_);
    }
    return choice;
}

// The step's count of the most confident candidates (ties to the earlier position), or with a
// threshold every candidate of the block above it, at least the most confident one.
std::vector<size_t> DecodeState::llada_commits(const std::vector<TokenChoice>& choice) {
    std::vector<size_t> order(choice.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return choice[a].confidence > choice[b].confidence; });
    size_t n = 0;
    if (opt_.threshold && *opt_.threshold > 0) {
        while (n < order.size() && choice[order[n]].confidence >= *opt_.threshold) ++n;  // Fast-dLLM keeps >=
        n = std::max<size_t>(n, 1);
    } else {
        n = size_t(std::min<int64_t>(llada_->count(), int64_t(order.size())));
    }
    order.resize(n);
    std::sort(order.begin(), order.end());
    return order;
}

// The first committed stop id (ids in list order: the first that occurs decides, as the original
// scans its stop strings) ends the answer; the schedule moves on.
void DecodeState::after_llada_step() {
    const std::vector<int64_t>& x = res_.sequence;
    for (int64_t id : opt_.stop_ids) {
        const auto it = std::find(x.begin() + prompt_len(), x.begin() + stop_, id);
        if (it == x.begin() + stop_) continue;
        stop_ = it - x.begin();
        break;
    }
    if (!(opt_.threshold && *opt_.threshold > 0)) llada_->advance();
}

// The same rows as the conditional pass with every prompt row (image rows included) the mask's
// embedding: the original's unconditional copy (prompt positions set to the mask id). Prompt masks
// filled by infilling keep their token there, as the original's prompt_index was taken at the start.
StepFeed DecodeState::unconditional_feed() {
    const std::vector<int64_t>& x = res_.sequence;
    const int64_t P = prompt_len(), L = int64_t(x.size()), H = lm_.config().hidden_size;
    StepFeed f;
    f.sequence.len = L;
    f.embeddings = Tensor::f32({L, H});
    const int64_t mask = lm_.config().ids.mask;
    const Tensor masked = lm_.embed({&mask, 1});
    for (int64_t p = 0; p < P; ++p)
        std::copy_n(std::binary_search(infill_.begin(), infill_.end(), p) ? prompt_.embeddings.row(p)
                                                                           : masked.data<float>(),
                    H, f.embeddings.row(p));
    const Tensor answer = lm_.embed({x.data() + P, size_t(L - P)});
    std::copy_n(answer.data<float>(), answer.numel(), f.embeddings.row(P));
    f.positions = positions_;
    const int64_t shift = lm_.config().shifted_logits ? 1 : 0;
    for (int64_t p : predict_) f.logit_rows.push_back(std::max<int64_t>(p - shift, 0));
    return f;
}

}  // namespace dimple
