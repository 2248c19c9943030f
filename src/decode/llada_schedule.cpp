#include "decode/llada_schedule.h"

#include <algorithm>

#include "core/error.h"

namespace dimple {

std::vector<int64_t> llada_transfer_counts(int64_t masks, int steps) {
    std::vector<int64_t> counts(size_t(steps), masks / steps);
    for (int64_t i = 0; i < masks % steps; ++i) ++counts[size_t(i)];
    return counts;
}

LladaSchedule::LladaSchedule(int64_t answer_len, int block_length, int steps)
    : answer_len_(answer_len), length_(block_length > 0 ? std::min<int64_t>(block_length, answer_len) : answer_len) {
    check(answer_len >= 1 && steps >= 1, "the llada pipeline needs an answer and a step");
    blocks_ = (answer_len + length_ - 1) / length_;
    steps_per_block_ = int(std::max<int64_t>(1, steps / blocks_));
}

void LladaSchedule::begin_block(int64_t masks) { counts_ = llada_transfer_counts(masks, steps_per_block_); }

void LladaSchedule::advance() {
    if (++step_ < steps_per_block_) return;
    end_block();
}

void LladaSchedule::end_block() {
    ++block_;
    step_ = 0;
    counts_.clear();
}

}  // namespace dimple
