#include "decode/batch_forward.h"

#include <algorithm>

namespace dimple {

std::vector<Tensor> batch_logits(const LanguageModel& lm, std::span<const StepFeed> feeds) {
    const int64_t H = lm.config().hidden_size;
    ForwardInput in;
    in.batch = 1;
    for (const StepFeed& f : feeds) in.len += f.sequence.len;
    in.embeddings = Tensor::f32({in.len, H});
    std::vector<int64_t> rows;
    int64_t row = 0;
    for (const StepFeed& f : feeds) {
        std::copy_n(f.embeddings.data<float>(), f.embeddings.numel(), in.embeddings.row(row));
        in.positions.insert(in.positions.end(), f.positions.begin(), f.positions.end());
        in.packed.push_back(f.sequence);
        for (int64_t r : f.logit_rows) rows.push_back(row + r);
        row += f.sequence.len;
    }
    const Tensor logits = lm.logits(lm.forward(in), rows);
    std::vector<Tensor> out;
    int64_t first = 0;
    for (const StepFeed& f : feeds) {
        const int64_t n = int64_t(f.logit_rows.size());
        out.push_back(logits.slice_rows(first, first + n));
        first += n;
    }
    return out;
}

}  // namespace dimple
