// Block-wise semi-autoregressive decoding (Fast-dLLM, arXiv 2505.22618): the answer is cut into
// blocks of `length` tokens decoded left to right; a step predicts and commits masks of the
// leftmost block that still has some.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "decode/sampling.h"

namespace dimple {

// The block of answer offset `offset`, and the offsets [first, last) it spans in an answer of
// `answer_len` tokens.
struct Block {
    int64_t index = -1, first = 0, last = 0;
};
Block block_of(int64_t offset, int length, int64_t answer_len);

// The steps each block may take: an even share of `steps`, at least one.
int steps_per_block(int steps, int length, int64_t answer_len);

// Which of the active block's masks a step commits (indices into `choice`): every one whose
// confidence passes the threshold, at least the most confident one; without a threshold the
// `ceil(masks / steps left)` most confident; all of them at the block's last step.
std::vector<size_t> block_commits(const std::vector<TokenChoice>& choice, std::optional<float> threshold,
                                  int steps_left);

}  // namespace dimple
