#include "decode/decode_state.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/error.h"
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
    positions_ = prompt_.positions.ids;
    for (int64_t j = 0; j < A; ++j) {
        const int64_t id = P + j + prompt_.positions.rope_delta;
        positions_.push_back({id, id, id});
    }
    find_masks();
    initial_masks_ = int64_t(mask_pos_.size());
}

void DecodeState::find_masks() {
    mask_pos_.clear();
    const std::vector<int64_t>& x = res_.sequence;
    for (int64_t p = prompt_len(); p < int64_t(x.size()); ++p)
        if (x[size_t(p)] == lm_.config().ids.mask) mask_pos_.push_back(p);
}

bool DecodeState::finished() const {
    return res_.steps_run >= opt_.steps || (opt_.pipeline == Pipeline::Dim && mask_pos_.empty());
}

std::vector<int64_t> DecodeState::answer() const { return {res_.sequence.begin() + prompt_len(), res_.sequence.end()}; }

// With a cache, the prompt's keys/values but its last token's are kept from the first pass and every
// later pass feeds only that token and the answer (the last prompt token predicts position P).
StepFeed DecodeState::feed() {
    const std::vector<int64_t>& x = res_.sequence;
    const int64_t L = int64_t(x.size()), P = prompt_len(), H = lm_.config().hidden_size;
    const bool reuse = opt_.use_cache && have_cache_;
    const int64_t first = reuse ? P - 1 : 0;
    StepFeed f;
    f.sequence.len = L - first;
    f.embeddings = Tensor::f32({f.sequence.len, H});
    // Prompt rows keep their embeddings (image rows included); answer rows are embedded anew.
    for (int64_t p = first; p < P; ++p) std::copy_n(prompt_.embeddings.row(p), H, f.embeddings.row(p - first));
    const Tensor answer = lm_.embed({x.data() + P, size_t(L - P)});
    std::copy_n(answer.data<float>(), answer.numel(), f.embeddings.row(P - first));
    f.positions.assign(positions_.begin() + first, positions_.end());
    if (reuse) f.sequence.past = &cache_;
    if (opt_.use_cache && !have_cache_) {
        f.sequence.keep = P - 1;
        f.sequence.keep_into = &cache_;
    }
    have_cache_ = have_cache_ || opt_.use_cache;
    fed_ = f.sequence.len;
    for (int64_t p : mask_pos_) f.logit_rows.push_back(std::max<int64_t>(p - 1, 0) - first);
    return f;
}

void DecodeState::step(const Tensor& logits, double forward_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    check(!finished(), "decoding step after the last one");
    std::vector<int64_t>& x = res_.sequence;
    const std::vector<int64_t>& mpos = mask_pos_;
    const int64_t V = lm_.config().vocab_size, P = prompt_len();
    const int i = res_.steps_run;
    const bool dim = opt_.pipeline == Pipeline::Dim;
    const bool original_conf = dim && opt_.use_original_confidence;
    const bool threshold_on = dim && opt_.threshold && *opt_.threshold > 0;
    const ConfidenceKind kind = confidence_kind(opt_.alg);

    std::vector<TokenChoice> choice(mpos.size());
    StepDebug dbg;
    if (!mpos.empty()) {
        check(logits.ndim() == 2, "decoding step: logits must be [masks, vocabulary]");
        check(logits.dim(0) == int64_t(mpos.size()) && logits.dim(1) == V, "decoding step: logits [", logits.dim(0),
              ", ", logits.dim(1), "] for ", mpos.size(), " masks over a vocabulary of ", V);
        // Each mask draws from its own stream (seed, step, position), so the rows run in parallel.
        choice = choose_tokens(logits.data<float>(), int64_t(mpos.size()), V, opt_.sampling, kind, original_conf,
                               opt_.seed, i, mpos);
        if (collect_debug_) dbg = step_debug(logits, mpos, fed_, V);
    }
    committed_.clear();
    auto commit = [&](size_t k) {
        x[size_t(mpos[k])] = choice[k].token;
        committed_.push_back(mpos[k] - P);
    };
    const bool last = i == opt_.steps - 1;
    const int64_t masks = int64_t(mpos.size());

    bool done = false;
    if (threshold_on) {
        if (last) {
            for (size_t k = 0; k < mpos.size(); ++k) commit(k);
            done = true;
        } else {
            for (size_t k = 0; k < mpos.size(); ++k)
                if (choice[k].confidence > *opt_.threshold) commit(k), done = true;
        }
    }
    if (!done && masks > 0) {
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
    }
    std::sort(committed_.begin(), committed_.end());
    res_.step_seconds.push_back(forward_seconds +
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    res_.history.push_back(answer());
    if (collect_debug_) res_.debug.push_back(std::move(dbg));
    ++res_.steps_run;
    find_masks();
}

}  // namespace dimple
