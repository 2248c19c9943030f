// M-RoPE position ids (spec section 5) and the rotary cos/sin tables they select.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/image_grid.h"
#include "io/config.h"

namespace dimple {

// Three position ids (t, h, w) per token of one sequence, plus the rope delta
// (max id + 1 - length) that positions of later tokens continue from.
struct Positions {
    std::vector<std::array<int64_t, 3>> ids;
    int64_t rope_delta = 0;
};

// Positions of one (possibly left-padded) sequence: text tokens count on from the previous maximum
// + 1 with three equal ids; each run of `image_token` tokens (one per image in `grids`, merged by
// `merge` x `merge`) gets t/h/w grid coordinates offset by the text before it; padding gets id 1.
// Without images this is the plain 1-D count that Dream uses.
Positions compute_positions(std::span<const int64_t> ids, std::span<const uint8_t> valid,
                            int64_t image_token, std::span<const ImageGrid> grids, int merge);

// One id per row, 0..n-1, all three equal (PositionScheme::Sequential: LLaDA counts image rows and
// left padding like any other row).
Positions sequential_positions(size_t n);

// cos/sin [len, head_dim] for the given positions: frequency i (of head_dim/2) uses the t, h or w
// id as mrope_section assigns it; both rotate-half halves share the angle. Computed in f32 exactly
// like the reference: inv_freq = 1 / theta^(2i/d) in f32, angle = f32(id) * inv_freq.
struct RopeTable {
    std::vector<float> cos, sin;
    int64_t head_dim = 0;
    const float* cos_row(int64_t i) const { return cos.data() + i * head_dim; }
    const float* sin_row(int64_t i) const { return sin.data() + i * head_dim; }
};
RopeTable rope_table(std::span<const std::array<int64_t, 3>> ids, int64_t head_dim, double theta,
                     const std::array<int, 3>& mrope_section);

}  // namespace dimple
