#include "decode/batch_forward.h"

#include <algorithm>
#include <chrono>

namespace dimple {

namespace {

// One forward call over feeds that run the same layers (a dLLM-Cache feed alone, on its cache).
void run_group(const LanguageModel& lm, std::span<const StepFeed> feeds, const std::vector<size_t>& group,
               std::vector<Tensor>& out) {
    if (const StepFeed& f = feeds[group.front()]; f.dllm) {
        out[group.front()] = lm.logits(lm.forward_dllm(f.embeddings, f.positions, *f.dllm), f.logit_rows);
        return;
    }
    const int64_t H = lm.config().hidden_size;
    ForwardInput in;
    in.batch = 1;
    in.skip_layers = feeds[group.front()].skip_layers;
    for (size_t g : group) in.len += feeds[g].sequence.len;
    in.embeddings = Tensor::f32({in.len, H});
    std::vector<int64_t> rows;
    int64_t row = 0;
    for (size_t g : group) {
        const StepFeed& f = feeds[g];
        std::copy_n(f.embeddings.data<float>(), f.embeddings.numel(), in.embeddings.row(row));
        in.positions.insert(in.positions.end(), f.positions.begin(), f.positions.end());
        in.packed.push_back(f.sequence);
        for (int64_t r : f.logit_rows) rows.push_back(row + r);
        row += f.sequence.len;
    }
    const Tensor logits = lm.logits(lm.forward(in), rows);
    int64_t first = 0;
    for (size_t g : group) {
        const int64_t n = int64_t(feeds[g].logit_rows.size());
        out[g] = logits.slice_rows(first, first + n);
        first += n;
    }
}

}  // namespace

std::vector<Tensor> batch_logits(const LanguageModel& lm, std::span<const StepFeed> feeds) {
    // Feeds that skip different layers (an opt-in of some requests) cannot share a call, nor can a
    // dLLM-Cache feed share one with any other.
    std::vector<std::vector<size_t>> groups;
    for (size_t i = 0; i < feeds.size(); ++i) {
        auto same = [&](const std::vector<size_t>& g) {
            const StepFeed& f = feeds[g.front()];
            return !f.dllm && !feeds[i].dllm && f.skip_layers == feeds[i].skip_layers;
        };
        const auto it = std::find_if(groups.begin(), groups.end(), same);
        if (it == groups.end())
            groups.push_back({i});
        else
            it->push_back(i);
    }
    std::vector<Tensor> out(feeds.size());
    for (const std::vector<size_t>& g : groups) run_group(lm, feeds, g, out);
    return out;
}

std::vector<std::exception_ptr> step_together(const LanguageModel& lm, std::span<DecodeState* const> states) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<StepFeed> feeds;
    // Each state's feed and unconditional feed (guidance), if it has them.
    std::vector<size_t> fed(states.size(), SIZE_MAX), unconditional(states.size(), SIZE_MAX);
    for (size_t i = 0; i < states.size(); ++i)
        if (!states[i]->finished() && states[i]->needs_logits()) {
            fed[i] = feeds.size();
            feeds.push_back(states[i]->feed());
            if (!states[i]->needs_unconditional()) continue;
            unconditional[i] = feeds.size();
            feeds.push_back(states[i]->unconditional_feed());
        }
    const std::vector<Tensor> logits = feeds.empty() ? std::vector<Tensor>() : batch_logits(lm, feeds);
    const double forward_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::exception_ptr> errors(states.size());
    for (size_t i = 0; i < states.size(); ++i) {
        if (states[i]->finished()) continue;
        try {
            states[i]->step(fed[i] == SIZE_MAX ? Tensor() : logits[fed[i]], forward_s,
                            unconditional[i] == SIZE_MAX ? nullptr : &logits[unconditional[i]]);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    }
    return errors;
}

}  // namespace dimple
