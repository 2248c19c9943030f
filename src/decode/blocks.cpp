#include "decode/blocks.h"

#include <algorithm>
#include <numeric>

namespace dimple {

Block block_of(int64_t offset, int length, int64_t answer_len) {
    const int64_t index = offset / length;
    return {index, index * length, std::min<int64_t>((index + 1) * length, answer_len)};
}

int steps_per_block(int steps, int length, int64_t answer_len) {
    const int64_t blocks = (answer_len + length - 1) / length;
    return int(std::max<int64_t>(1, steps / std::max<int64_t>(1, blocks)));
}

std::vector<size_t> block_commits(const std::vector<TokenChoice>& choice, std::optional<float> threshold,
                                  int steps_left) {
    std::vector<size_t> order(choice.size());
    std::iota(order.begin(), order.end(), 0);
    if (steps_left <= 1) return order;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return choice[a].confidence > choice[b].confidence; });
    size_t n = 0;
    if (threshold) {
        while (n < order.size() && choice[order[n]].confidence > *threshold) ++n;
        n = std::max<size_t>(n, 1);
    } else {
        n = (choice.size() + size_t(steps_left) - 1) / size_t(steps_left);
    }
    order.resize(std::min(n, order.size()));
    std::sort(order.begin(), order.end());
    return order;
}

}  // namespace dimple
