#include "decode/llada_schedule.h"

#include "core/error.h"

namespace dimple {

std::vector<int64_t> llada_transfer_counts(int64_t masks, int steps) {
    std::vector<int64_t> counts(size_t(steps), masks / steps);
    for (int64_t i = 0; i < masks % steps; ++i) ++counts[size_t(i)];
    return counts;
}

LladaSchedule::LladaSchedule(int64_t answer_len, int block_length, int steps) {
    length_ = block_length > 0 ? block_length : answer_len;
    check(length_ >= 1 && answer_len % length_ == 0, "the llada pipeline needs the answer length (", answer_len,
          ") to be a multiple of the block length (", length_, ")");
    blocks_ = answer_len / length_;
    check(steps % blocks_ == 0, "the llada pipeline needs the steps (", steps, ") to be a multiple of the ",
          blocks_, " blocks (answer length ", answer_len, " / block length ", length_, ")");
    steps_per_block_ = int(steps / blocks_);
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
