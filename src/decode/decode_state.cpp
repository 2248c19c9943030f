#include "decode/decode_state.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "decode/blocks.h"
#include "decode/schedule.h"
#include "kernels/ops.h"

namespace dimple {

namespace {

ConfidenceKind confidence_kind(Algorithm a) {
    if (a == Algorithm::TopkMargin) return ConfidenceKind::Margin;
    if (a == Algorithm::Entropy) return ConfidenceKind::NegEntropy;
    return ConfidenceKind::Probability;
}

// Indices of the n largest confidences (ties to the lower index), or n drawn without replacement
// from softmax(confidence / alg_temp) when alg_temp > 0.
std::vector<size_t> pick_top(const std::vector<float>& conf, int64_t n, float alg_temp, Rng& rng) {
    std::vector<size_t> idx(conf.size());
    std::iota(idx.begin(), idx.end(), 0);
    n = std::min<int64_t>(n, int64_t(conf.size()));
    if (alg_temp > 0) {
        std::vector<float> w(conf.size());
        for (size_t i = 0; i < w.size(); ++i) w[i] = conf[i] / alg_temp;
        softmax(w.data(), int64_t(w.size()));
        std::vector<size_t> out;
        for (int64_t k = 0; k < n; ++k) {
            std::discrete_distribution<size_t> draw(w.begin(), w.end());
            const size_t j = draw(rng);
            out.push_back(j);
            w[j] = 0.f;
        }
        return out;
    }
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return conf[a] > conf[b]; });
    idx.resize(size_t(n));
    return idx;
}

StepDebug step_debug(const Tensor& logits, const std::vector<int64_t>& mpos, int64_t fed, int64_t V) {
    StepDebug dbg;
    dbg.tokens_fed = fed;
    dbg.mask_positions = mpos;
    for (size_t k = 0; k < mpos.size(); ++k) {
        std::vector<float> p(logits.row(int64_t(k)), logits.row(int64_t(k)) + V);
        softmax(p.data(), V);
        std::vector<float> top(p);
        std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<float>());
        dbg.argmax.push_back(int64_t(std::max_element(p.begin(), p.end()) - p.begin()));
        dbg.p_top1.push_back(top[0]);
        dbg.p_top2.push_back(top[1]);
    }
    return dbg;
}

}  // namespace

void validate_generate_options(const GenerateOptions& o, const ModelConfig& cfg, int64_t prompt_len) {
    check(prompt_len + o.max_new_tokens <= cfg.max_positions, "the prompt (", prompt_len, " tokens) plus ",
          o.max_new_tokens, " new tokens exceeds the model's ", cfg.max_positions, " positions");
    check(o.max_new_tokens >= 1 && o.max_new_tokens <= 1 << 16, "max_new_tokens must be in [1, 65536] (got ",
          o.max_new_tokens, ")");
    check(o.steps >= 1 && o.steps <= 1 << 16, "steps must be in [1, 65536] (got ", o.steps, ")");
    check(o.eps > 0 && o.eps < 1, "eps must be in (0, 1)");
    check(o.sampling.temperature >= 0, "temperature must be >= 0");
    check(!o.sampling.top_p || (*o.sampling.top_p > 0 && *o.sampling.top_p <= 1), "top_p must be in (0, 1]");
    check(!o.sampling.top_k || *o.sampling.top_k >= 0, "top_k must be >= 0");
    check(o.alg_temp >= 0, "alg_temp must be >= 0");
    for (const auto& [offset, id] : o.fixed) {
        check(offset >= 0 && offset < o.max_new_tokens, "a fixed answer position (", offset,
              ") lies outside the ", o.max_new_tokens, " answer tokens");
        check(id >= 0 && id < cfg.vocab_size, "fixed token id ", id, " is outside the vocabulary");
    }
    validate_acceleration(o.accel, cfg.num_layers, o.use_cache);
    const bool llada = o.pipeline == Pipeline::Llada;
    check(!o.accel.dllm_cache.enabled() || (llada && o.cfg_scale == 0),
          "dLLM-Cache belongs to the llada pipeline (LLaDA, LLaDA-V), without classifier-free guidance");
    check(o.cfg_scale >= 0 && o.cfg_scale <= 1e6, "cfg_scale must be >= 0 (got ", o.cfg_scale, ")");
    check(llada || (o.cfg_scale == 0 && o.banned_ids.empty() && o.stop_ids.empty() &&
                    o.remasking == Remasking::LowConfidence),
          "cfg_scale, remasking, banned and stop ids belong to the llada pipeline");
    check(o.cfg_scale == 0 || !o.use_cache, "classifier-free guidance runs the whole sequence twice: use it without "
                                            "prefilling (--no-cache)");
    check(!llada || !o.accel.dual_cache || !o.accel.prunes(), "visual-token pruning does not combine with the "
                                                              "llada pipeline's dual cache");
    check(!o.measure_image_attention || (!o.accel.prunes() && !o.accel.dllm_cache.enabled()),
          "measuring attention to image tokens needs every image key at every layer: not with pruning or dLLM-Cache");
    for (const std::vector<int64_t>* ids : {&o.banned_ids, &o.stop_ids})
        for (int64_t id : *ids) check(id >= 0 && id < cfg.vocab_size, "token id ", id, " is outside the vocabulary");
}

DecodeState::DecodeState(const LanguageModel& lm, Prompt prompt, const GenerateOptions& opt, bool collect_debug)
    : lm_(lm), prompt_(std::move(prompt)), opt_(opt), collect_debug_(collect_debug), rng_(opt.seed) {
    const int64_t P = prompt_len(), A = opt.max_new_tokens;
    validate_generate_options(opt, lm.config(), P);
    std::vector<int64_t>& x = res_.sequence;
    x = prompt_.ids;
    x.resize(size_t(P + A), lm.config().ids.mask);
    for (const auto& [offset, id] : opt.fixed) x[size_t(P + offset)] = id;  // structure priors
    ts_ = diffusion_timesteps(opt.steps, opt.eps);
    stop_ = P + A;
    if (opt.pipeline == Pipeline::Llada) {
        llada_.emplace(A, opt.accel.block_length, opt.steps);
        for (int64_t p = 0; p < P; ++p)
            if (prompt_.ids[size_t(p)] == lm.config().ids.mask) infill_.push_back(p);
        check(infill_.empty() || !opt.use_cache, "masks inside the prompt (infilling) change the prompt's "
                                               "keys/values: run it without prefilling (--no-cache)");
    }
    positions_ = prompt_.positions.ids;
    for (int64_t j = 0; j < A; ++j) {
        const int64_t id = P + j + prompt_.positions.rope_delta;
        positions_.push_back({id, id, id});
    }
    for (int64_t p = 0; p + 1 < P; ++p) {
        present_.push_back(p);
        images_ += prompt_.ids[size_t(p)] == lm.config().ids.image;
    }
    images_kept_ = images_;
    dllm_ = DllmCache(opt.accel.dllm_cache, P);
    find_masks();
    initial_masks_ = int64_t(mask_pos_.size());
}

void DecodeState::find_masks() {
    if (llada_) return find_llada_masks();
    mask_pos_.clear();
    const std::vector<int64_t>& x = res_.sequence;
    for (int64_t p = prompt_len(); p < int64_t(x.size()); ++p)
        if (x[size_t(p)] == lm_.config().ids.mask) mask_pos_.push_back(p);
    predict_ = mask_pos_;
    const int length = opt_.accel.block_length;
    if (length > 0 && !mask_pos_.empty()) {
        const Block b = block_of(mask_pos_.front() - prompt_len(), length, opt_.max_new_tokens);
        if (b.index != block_) block_ = b.index, block_steps_ = 0;
        std::erase_if(predict_, [&](int64_t p) { return p - prompt_len() >= b.last; });
    }
}

// The position of the answer's first eos (the sequence's length when there is none yet).
int64_t DecodeState::first_eos() const {
    const std::vector<int64_t>& x = res_.sequence;
    return std::find(x.begin() + prompt_len(), x.end(), lm_.config().ids.eos) - x.begin();
}

// Whether the answer's text can no longer change: no mask is left before its first eos (committed
// tokens never change and the text ends at the first eos).
bool DecodeState::text_final() const { return mask_pos_.empty() || mask_pos_.front() > first_eos(); }

bool DecodeState::finished() const {
    if (opt_.accel.early_stop != EarlyStop::Off && text_final()) return true;
    if (llada_) return llada_->done() || mask_pos_.empty();
    if (opt_.accel.block_length > 0) return mask_pos_.empty();
    return res_.steps_run >= opt_.steps || (opt_.pipeline == Pipeline::Dim && mask_pos_.empty());
}

std::vector<int64_t> DecodeState::answer() const { return {res_.sequence.begin() + prompt_len(), res_.sequence.end()}; }

// Early stop (rows): the rows after the first eos are no longer fed once all are committed.
int64_t DecodeState::fed_end() const {
    const int64_t L = int64_t(res_.sequence.size()), eos = first_eos();
    if (opt_.accel.early_stop != EarlyStop::Rows || eos == L || (!mask_pos_.empty() && mask_pos_.back() > eos)) return L;
    return eos + 1;
}

bool DecodeState::dual_refresh_due() const {
    const int every = opt_.accel.cache_refresh;
    return answer_cache_.k.empty() || block_ != refresh_block_ || (every > 0 && res_.steps_run - refresh_step_ >= every);
}

// With a cache, the prompt's keys/values but its last token's are kept from the first pass and every
// later pass feeds only that token and the answer (the last prompt token predicts position P). With
// the dual cache, passes between refreshes feed only the active block and the row before it.
StepFeed DecodeState::feed() {
    const std::vector<int64_t>& x = res_.sequence;
    const int64_t P = prompt_len(), H = lm_.config().hidden_size;
    const Acceleration& a = opt_.accel;
    const bool reuse = opt_.use_cache && have_cache_;
    int64_t first = reuse ? P - 1 : 0, end = fed_end();
    StepFeed f;
    if (reuse) f.sequence.past = &cache_;
    if (opt_.use_cache && !have_cache_) {
        f.sequence.keep = P - 1;
        f.sequence.keep_into = &cache_;
    }
    if (a.dual_cache && llada_) {
        llada_dual_feed(f, first, end);
    } else if (a.dual_cache && reuse) {
        const Block b = block_of(predict_.front() - P, a.block_length, opt_.max_new_tokens);
        if (dual_refresh_due()) {
            end = int64_t(x.size());  // the refresh feeds (and keeps) every answer row
            f.sequence.keep = end - first;
            f.sequence.keep_into = &answer_cache_;
            refresh_block_ = block_, refresh_step_ = res_.steps_run, dual_past_built_ = false;
        } else {
            if (!dual_past_built_) {
                std::vector<int64_t> outside;  // answer-cache rows (from P - 1) outside the block's feed
                for (int64_t r = 0; r < answer_cache_.len; ++r)
                    if (r < b.first || r > b.last) outside.push_back(r);
                dual_past_ = join_rows(cache_, answer_cache_, outside);
                dual_past_built_ = true;
            }
            first = P + b.first - 1;
            end = std::min(end, P + b.last);
            f.sequence.past = &dual_past_;
        }
    }
    f.sequence.len = end - first;
    f.embeddings = Tensor::f32({f.sequence.len, H});
    // Prompt rows keep their embeddings (image rows included); answer rows are embedded anew.
    for (int64_t p = first; p < std::min(P, end); ++p) std::copy_n(prompt_.embeddings.row(p), H, f.embeddings.row(p - first));
    const int64_t from = std::max(first, P);
    const Tensor answer = lm_.embed({x.data() + from, size_t(end - from)});
    std::copy_n(answer.data<float>(), answer.numel(), f.embeddings.row(from - first));
    f.positions.assign(positions_.begin() + first, positions_.begin() + end);
    have_cache_ = have_cache_ || opt_.use_cache;
    fed_ = f.sequence.len;
    const int64_t shift = lm_.config().shifted_logits ? 1 : 0;  // Dream's row p - 1 predicts position p
    for (int64_t p : predict_) f.logit_rows.push_back(std::max<int64_t>(p - shift, 0) - first);
    if (!a.skip_layers.empty() && res_.steps_run >= a.skip_from_step && !f.sequence.keep_into) {
        f.skip_layers.assign(size_t(lm_.config().num_layers), 0);
        for (int l : a.skip_layers) f.skip_layers[size_t(l)] = 1;
    }
    if (opt_.accel.dllm_cache.enabled()) f.dllm = &dllm_;
    plan_pruning(f, first);
    plan_image_attention(f, first);
    return f;
}

// Visual-token pruning: when the schedule keeps fewer image tokens than the cache holds, this pass
// chooses which (the first pass among its own rows, later ones among the cached keys).
void DecodeState::plan_pruning(StepFeed& f, int64_t first) {
    prune_ = VisualPruning{};
    const Acceleration& a = opt_.accel;
    const int64_t target = std::max<int64_t>(1, std::llround(prune_keep_at(a, res_.steps_run) * double(images_)));
    if (!a.prunes() || images_ == 0 || target >= images_kept_) return;
    const int64_t image = lm_.config().ids.image, P = prompt_len();
    prune_.layer = a.prune_layer;
    prune_.keep = target;
    prune_from_cache_ = f.sequence.past != nullptr;
    prune_.candidates = image_keys(prompt_.ids, image, prune_from_cache_ ? &present_ : nullptr, first, f.sequence.len);
    if (prune_from_cache_) {
        prune_.later_index.assign(size_t(P - 1), -1);
        for (size_t i = 0; i < present_.size(); ++i) prune_.later_index[size_t(present_[i])] = int64_t(i);
    }
    for (int64_t r = 0; r < f.sequence.len; ++r) {  // the text and answer rows
        const int64_t p = first + r;
        if (prune_from_cache_ || p >= P || prompt_.ids[size_t(p)] != image) prune_.query_rows.push_back(r);
    }
    f.sequence.prune = &prune_;
}

// The study's measure: attention that the rows predicting masks give the image keys, per layer.
void DecodeState::plan_image_attention(StepFeed& f, int64_t first) {
    if (!opt_.measure_image_attention) return;
    const std::vector<int64_t>* cached = f.sequence.past ? &present_ : nullptr;
    image_attention_ = ImageAttention{image_keys(prompt_.ids, lm_.config().ids.image, cached, first, f.sequence.len),
                                      f.logit_rows,
                                      std::vector<float>(size_t(lm_.config().num_layers), std::nanf(""))};
    f.sequence.image_attention = &image_attention_;
}

// After the pass: the dropped keys leave the caches' later layers (a first pass already left them
// out of the cache it filled).
void DecodeState::apply_pruning() {
    if (prune_.dropped.empty()) return;
    std::vector<int64_t> at;  // their rows in the later layers
    for (int64_t c : prune_.dropped) at.push_back(prune_from_cache_ ? prune_.later_index[size_t(c)] : c);
    if (prune_from_cache_) {
        drop_rows(cache_, size_t(prune_.layer) + 1, at);
        if (dual_past_built_) drop_rows(dual_past_, size_t(prune_.layer) + 1, at);
    }
    std::erase_if(present_, [&](int64_t p) { return std::binary_search(prune_.dropped.begin(), prune_.dropped.end(), p); });
    images_kept_ -= int64_t(prune_.dropped.size());
    prune_ = VisualPruning{};
}

void DecodeState::step(const Tensor& logits, double forward_seconds, const Tensor* unconditional) {
    const auto t0 = std::chrono::steady_clock::now();
    check(!finished(), "decoding step after the last one");
    std::vector<int64_t>& x = res_.sequence;
    const std::vector<int64_t>& mpos = predict_;
    const int64_t V = lm_.config().vocab_size, P = prompt_len();
    const bool original_conf = opt_.pipeline == Pipeline::Dim && opt_.use_original_confidence;

    std::vector<TokenChoice> choice(mpos.size());
    StepDebug dbg;
    if (!mpos.empty()) {
        check(logits.ndim() == 2, "decoding step: logits must be [masks, vocabulary]");
        check(logits.dim(0) == int64_t(mpos.size()) && logits.dim(1) == V, "decoding step: logits [", logits.dim(0),
              ", ", logits.dim(1), "] for ", mpos.size(), " masks over a vocabulary of ", V);
        check(!needs_unconditional() || (unconditional && unconditional->dim(0) == logits.dim(0)),
              "decoding step: guidance needs the unconditional logits");
        // Each mask draws from its own stream (seed, step, position), so the rows run in parallel.
        if (llada_)
            choice = llada_choices(logits, unconditional);
        else
            choice = choose_tokens(logits.data<float>(), int64_t(mpos.size()), V, opt_.sampling,
                                   confidence_kind(opt_.alg), original_conf, opt_.seed, res_.steps_run, mpos);
        if (collect_debug_) dbg = step_debug(logits, mpos, fed_, V);
    }
    committed_.clear();
    if (!mpos.empty())
        for (size_t k : llada_ ? llada_commits(choice) : commits(choice)) {
            x[size_t(mpos[k])] = choice[k].token;
            if (mpos[k] >= P) {
                committed_.push_back(mpos[k] - P);
            } else {  // a mask inside the prompt (llada infilling): its row is the token's now
                prompt_.ids[size_t(mpos[k])] = choice[k].token;
                const Tensor row = lm_.embed({&choice[k].token, 1});
                std::copy_n(row.data<float>(), row.numel(), prompt_.embeddings.row(mpos[k]));
            }
        }
    std::sort(committed_.begin(), committed_.end());
    apply_pruning();
    res_.step_seconds.push_back(forward_seconds +
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    res_.history.push_back(answer());
    if (collect_debug_) res_.debug.push_back(std::move(dbg));
    if (opt_.measure_image_attention) res_.image_attention.push_back(image_attention_.share);
    ++res_.steps_run;
    ++block_steps_;
    if (llada_) after_llada_step();
    find_masks();
}

// Which of the predicted masks this step commits (indices into `choice`), by the pipeline's rule
// (spec section 7) or, with blocks, by the block rule.
std::vector<size_t> DecodeState::commits(const std::vector<TokenChoice>& choice) {
    const std::vector<int64_t>& mpos = predict_;
    const int i = res_.steps_run;
    const bool dim = opt_.pipeline == Pipeline::Dim;
    const bool threshold_on = opt_.threshold && *opt_.threshold > 0;
    if (opt_.accel.block_length > 0) {
        const int budget = steps_per_block(opt_.steps, opt_.accel.block_length, opt_.max_new_tokens);
        return block_commits(choice, threshold_on ? opt_.threshold : std::nullopt, budget - block_steps_);
    }
    std::vector<size_t> out;
    auto commit = [&](size_t k) { out.push_back(k); };
    const bool last = i == opt_.steps - 1;
    const int64_t masks = int64_t(mpos.size());

    if (dim && threshold_on) {
        if (last) {
            for (size_t k = 0; k < mpos.size(); ++k) commit(k);
            return out;
        }
        for (size_t k = 0; k < mpos.size(); ++k)
            if (choice[k].confidence > *opt_.threshold) commit(k);
        if (!out.empty()) return out;
    }
    if (opt_.alg == Algorithm::Autoregressive) {
        commit(0);  // exactly one token per step, the leftmost mask (quirk G5)
    } else if (dim) {
        const DimTransfer d = dim_transfer(ts_, i, masks, initial_masks_);
        if (opt_.alg == Algorithm::Origin) {
            std::vector<size_t> order(mpos.size());
            std::iota(order.begin(), order.end(), 0);
            std::shuffle(order.begin(), order.end(), rng_);
            for (int64_t k = 0; k < d.count; ++k) commit(order[size_t(k)]);
        } else if (opt_.alg == Algorithm::OriginRatio) {
            // Each mask with the probability the schedule implies: 1 - t_s / r.
            const float p = d.s == int(ts_.size()) - 1 ? 1.f : 1.f - ts_[size_t(d.s)] / d.ratio;
            std::uniform_real_distribution<float> u(0.f, 1.f);
            for (size_t k = 0; k < mpos.size(); ++k)
                if (u(rng_) < p) commit(k);
        } else {
            std::vector<float> conf(mpos.size());
            for (size_t k = 0; k < conf.size(); ++k) conf[k] = choice[k].confidence;
            for (size_t k : pick_top(conf, d.count, opt_.alg_temp, rng_)) commit(k);
        }
    } else if (opt_.alg == Algorithm::Origin || opt_.alg == Algorithm::OriginRatio) {
        const float p = last ? 1.f : 1.f - ts_[size_t(i + 1)] / ts_[size_t(i)];
        std::uniform_real_distribution<float> u(0.f, 1.f);
        for (size_t k = 0; k < mpos.size(); ++k)
            if (u(rng_) < p) commit(k);
    } else {
        const int64_t n = dream_transfer(ts_, i, masks);
        std::vector<float> conf(mpos.size());
        for (size_t k = 0; k < conf.size(); ++k) conf[k] = choice[k].confidence;
        if (n > 0)
            for (size_t k : pick_top(conf, n, opt_.alg_temp, rng_)) commit(k);
    }
    return out;
}

}  // namespace dimple
