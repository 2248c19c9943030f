// LLaDA's sampler (`generate` of ML-GSAI/LLaDA generate.py; spec llada.md section 6): the answer is
// cut into blocks of `block_length` decoded left to right, each block gets steps / blocks steps, and
// step i of a block commits a fixed count of its masks: floor(n / s) + (i < n mod s), where n is the
// number of masks the block held when it began. The original asserts that blocks divide the answer
// and the steps; where they do not, the last block is shorter and each block gets floor(steps /
// blocks) steps (at least one), so that any length and step count run, exactly as the original
// wherever it runs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dimple {

// The counts of one block: `masks` split over `steps` steps as get_num_transfer_tokens splits them.
std::vector<int64_t> llada_transfer_counts(int64_t masks, int steps);

// Where the sampler stands: which block, which of its steps, and that step's count.
class LladaSchedule {
public:
    // block_length 0 means one block over the whole answer.
    LladaSchedule(int64_t answer_len, int block_length, int steps);

    int64_t blocks() const { return blocks_; }
    int64_t block() const { return block_; }
    int step_in_block() const { return step_; }
    bool done() const { return block_ >= blocks_; }
    // Answer offsets [first, last) of the current block.
    int64_t first() const { return block_ * length_; }
    int64_t last() const { return std::min((block_ + 1) * length_, answer_len_); }
    // Called when a block begins, with the masks it holds then.
    void begin_block(int64_t masks);
    bool block_begun() const { return !counts_.empty(); }
    // The current step's count of commits.
    int64_t count() const { return counts_[size_t(step_)]; }
    // Moves to the next step (and to the next block after the block's last step).
    void advance();
    // Ends the current block early (threshold decoding finished its masks).
    void end_block();

private:
    int64_t answer_len_ = 0, length_ = 0, blocks_ = 0, block_ = 0;
    int steps_per_block_ = 0, step_ = 0;
    std::vector<int64_t> counts_;
};

}  // namespace dimple
