#include "decode/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "decode/schedule.h"
#include "kernels/ops.h"

namespace dimple {

Pipeline parse_pipeline(const std::string& s) {
    if (s == "dim") return Pipeline::Dim;
    if (s == "dream") return Pipeline::Dream;
    fail("unknown pipeline '", s, "' (expected dim or dream)");
}

Algorithm parse_algorithm(const std::string& s) {
    if (s == "origin") return Algorithm::Origin;
    if (s == "origin-ratio" || s == "origin_ratio") return Algorithm::OriginRatio;
    if (s == "autoregressive") return Algorithm::Autoregressive;
    if (s == "maskgit_plus" || s == "maskgit-plus") return Algorithm::MaskgitPlus;
    if (s == "topk_margin" || s == "topk-margin") return Algorithm::TopkMargin;
    if (s == "entropy") return Algorithm::Entropy;
    fail("unknown decoding algorithm '", s,
         "' (expected origin, origin-ratio, autoregressive, maskgit_plus, topk_margin or entropy)");
}

std::string pipeline_name(Pipeline p) { return p == Pipeline::Dim ? "dim" : "dream"; }

std::string algorithm_name(Algorithm a) {
    switch (a) {
        case Algorithm::Origin: return "origin";
        case Algorithm::OriginRatio: return "origin-ratio";
        case Algorithm::Autoregressive: return "autoregressive";
        case Algorithm::MaskgitPlus: return "maskgit_plus";
        case Algorithm::TopkMargin: return "topk_margin";
        case Algorithm::Entropy: return "entropy";
    }
    return "?";
}

namespace {

ConfidenceKind confidence_kind(Algorithm a) {
    if (a == Algorithm::TopkMargin) return ConfidenceKind::Margin;
    if (a == Algorithm::Entropy) return ConfidenceKind::NegEntropy;
    return ConfidenceKind::Probability;
}

// Runs the model over the sequence (or, with a cache, over its uncached tail) and returns the
// logits that predict each masked position: row p-1 for position p (row 0 for position 0).
class Denoiser {
public:
    Denoiser(const LanguageModel& lm, const Prompt& prompt, int64_t answer_len, bool use_cache)
        : lm_(lm), prompt_(prompt), use_cache_(use_cache) {
        const int64_t P = int64_t(prompt.ids.size());
        positions_ = prompt.positions.ids;
        for (int64_t j = 0; j < answer_len; ++j) {
            const int64_t id = P + j + prompt.positions.rope_delta;
            positions_.push_back({id, id, id});
        }
        cached_ = P - 1;  // the last prompt token is run with the answer: it predicts position P
    }

    int64_t tokens_fed() const { return fed_; }

    Tensor logits(const std::vector<int64_t>& seq, const std::vector<int64_t>& mask_pos) {
        const int64_t L = int64_t(seq.size()), P = int64_t(prompt_.ids.size()), H = lm_.config().hidden_size;
        const bool reuse = use_cache_ && have_cache_;
        const int64_t first = reuse ? cached_ : 0;  // first position fed this step
        ForwardInput in;
        in.batch = 1;
        in.len = L - first;
        in.embeddings = Tensor::f32({in.len, H});
        // Prompt rows keep their embeddings (image rows included); answer rows are embedded anew.
        for (int64_t p = first; p < P; ++p)
            std::copy_n(prompt_.embeddings.row(p), H, in.embeddings.row(p - first));
        const Tensor answer = lm_.embed({seq.data() + P, size_t(L - P)});
        std::copy_n(answer.data<float>(), answer.numel(), in.embeddings.row(P - first));
        in.positions.assign(positions_.begin() + first, positions_.end());
        if (reuse) in.past = &cache_;
        if (use_cache_ && !have_cache_) {
            in.keep = cached_;
            in.keep_into = &cache_;
        }
        const Tensor hidden = lm_.forward(in);
        have_cache_ = have_cache_ || use_cache_;
        fed_ = in.len;
        std::vector<int64_t> rows(mask_pos.size());
        for (size_t i = 0; i < mask_pos.size(); ++i) rows[i] = std::max<int64_t>(mask_pos[i] - 1, 0) - first;
        return lm_.logits(hidden, rows);
    }

private:
    const LanguageModel& lm_;
    const Prompt& prompt_;
    bool use_cache_;
    bool have_cache_ = false;
    int64_t cached_ = 0, fed_ = 0;
    KvCache cache_;
    std::vector<std::array<int64_t, 3>> positions_;
};

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

void validate(const GenerateOptions& o, const ModelConfig& cfg, int64_t prompt_len) {
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

}  // namespace

GenerateResult generate(const LanguageModel& lm, const Prompt& prompt, const GenerateOptions& opt,
                        const StepCallback& on_step, bool collect_debug) {
    const ModelConfig& cfg = lm.config();
    validate(opt, cfg, int64_t(prompt.ids.size()));
    const int64_t mask = cfg.ids.mask, P = int64_t(prompt.ids.size()), A = opt.max_new_tokens;
    const int64_t V = cfg.vocab_size;

    GenerateResult res;
    std::vector<int64_t>& x = res.sequence;
    x = prompt.ids;
    x.resize(size_t(P + A), mask);
    for (const auto& [offset, id] : opt.fixed) x[size_t(P + offset)] = id;  // structure priors

    const std::vector<float> ts = diffusion_timesteps(opt.steps, opt.eps);
    const bool dim = opt.pipeline == Pipeline::Dim;
    const bool original_conf = dim && opt.use_original_confidence;
    const bool threshold_on = dim && opt.threshold && *opt.threshold > 0;
    const ConfidenceKind kind = confidence_kind(opt.alg);
    Rng rng(opt.seed);
    SamplingScratch scratch;
    Denoiser denoiser(lm, prompt, A, opt.use_cache);

    auto masked_positions = [&] {
        std::vector<int64_t> m;
        for (int64_t p = P; p < P + A; ++p)
            if (x[size_t(p)] == mask) m.push_back(p);
        return m;
    };
    const int64_t initial = int64_t(masked_positions().size());

    for (int i = 0; i < opt.steps; ++i) {
        const std::vector<int64_t> mpos = masked_positions();
        if (dim && mpos.empty()) break;
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<TokenChoice> choice(mpos.size());
        StepDebug dbg;
        if (!mpos.empty()) {
            const Tensor logits = denoiser.logits(x, mpos);
            for (size_t k = 0; k < mpos.size(); ++k)
                choice[k] = choose_token(logits.row(int64_t(k)), V, opt.sampling, kind, original_conf, rng, scratch);
            if (collect_debug) {
                dbg.tokens_fed = denoiser.tokens_fed();
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
            }
        }
        auto commit = [&](size_t k) { x[size_t(mpos[k])] = choice[k].token; };
        const bool last = i == opt.steps - 1;
        const int64_t masks = int64_t(mpos.size());

        bool done = false;
        if (threshold_on) {
            if (last) {
                for (size_t k = 0; k < mpos.size(); ++k) commit(k);
                done = true;
            } else {
                for (size_t k = 0; k < mpos.size(); ++k)
                    if (choice[k].confidence > *opt.threshold) commit(k), done = true;
            }
        }
        if (!done && masks > 0) {
            if (opt.alg == Algorithm::Autoregressive) {
                commit(0);  // exactly one token per step, the leftmost mask (quirk G5)
            } else if (dim) {
                const DimTransfer d = dim_transfer(ts, i, masks, initial);
                if (opt.alg == Algorithm::Origin) {
                    std::vector<size_t> order(mpos.size());
                    std::iota(order.begin(), order.end(), 0);
                    std::shuffle(order.begin(), order.end(), rng);
                    for (int64_t k = 0; k < d.count; ++k) commit(order[size_t(k)]);
                } else if (opt.alg == Algorithm::OriginRatio) {
                    // Each mask with the probability the schedule implies: 1 - t_s / r.
                    const float p = d.s == int(ts.size()) - 1 ? 1.f : 1.f - ts[size_t(d.s)] / d.ratio;
                    std::uniform_real_distribution<float> u(0.f, 1.f);
                    for (size_t k = 0; k < mpos.size(); ++k)
                        if (u(rng) < p) commit(k);
                } else {
                    std::vector<float> conf(mpos.size());
                    for (size_t k = 0; k < conf.size(); ++k) conf[k] = choice[k].confidence;
                    for (size_t k : pick_top(conf, d.count, opt.alg_temp, rng)) commit(k);
                }
            } else if (opt.alg == Algorithm::Origin || opt.alg == Algorithm::OriginRatio) {
                const float p = last ? 1.f : 1.f - ts[size_t(i + 1)] / ts[size_t(i)];
                std::uniform_real_distribution<float> u(0.f, 1.f);
                for (size_t k = 0; k < mpos.size(); ++k)
                    if (u(rng) < p) commit(k);
            } else {
                const int64_t n = dream_transfer(ts, i, masks);
                std::vector<float> conf(mpos.size());
                for (size_t k = 0; k < conf.size(); ++k) conf[k] = choice[k].confidence;
                if (n > 0)
                    for (size_t k : pick_top(conf, n, opt.alg_temp, rng)) commit(k);
            }
        }
        res.step_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        res.history.emplace_back(x.begin() + P, x.end());
        if (collect_debug) res.debug.push_back(std::move(dbg));
        ++res.steps_run;
        if (on_step) on_step(i, res.history.back());
    }
    return res;
}

}  // namespace dimple
