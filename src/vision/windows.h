// Geometry of the Qwen2.5-VL vision tower: which patch sits where (2-D rotary angles), how merge
// units are regrouped into attention windows, and the segments each attention block sees.
// Everything here is integer bookkeeping plus the rotary angles, computed exactly as the reference.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/image_grid.h"
#include "core/tensor.h"

namespace dimple {

// Checks that every grid is positive and divisible by `merge` spatially; returns the patch count.
int64_t vision_patch_count(std::span<const ImageGrid> grids, int merge);

// The head_dim/4 rotary frequencies 1/10000^(2i/(head_dim/2)), rounded the way torch computes
// them in float32 (the power in double, rounded once, then an f32 reciprocal).
std::vector<float> vision_rotary_inv_freq(int head_dim);

// [patches, head_dim/2] f32 angles in the processor's patch order (t, h/m, w/m, m, m):
// concat(row * inv_freq, col * inv_freq) of each patch's (row, col) in its grid.
Tensor vision_rotary_angles(std::span<const ImageGrid> grids, int merge, int head_dim);

// How the merge units (m x m patches) of all images are regrouped into windows of
// `window_units` x `window_units` units, and where attention segments begin and end.
struct WindowLayout {
    // window_index[i] = the original (processor-order) merge unit placed at window-order slot i.
    std::vector<int64_t> window_index;
    // Window boundaries in patches as the reference first computes them: a side that is an exact
    // multiple of the window still gets one empty padding window, which repeats a boundary.
    std::vector<int64_t> cu_window_seqlens_raw;
    // The same with repeats removed: the segments windowed blocks attend within.
    std::vector<int64_t> cu_window_seqlens;
    // One segment per image frame: what the full-attention blocks attend within.
    std::vector<int64_t> cu_seqlens;
};

WindowLayout vision_window_layout(std::span<const ImageGrid> grids, int merge, int window_units);

// p^-1: out[p[i]] = i. p must be a permutation of 0..n-1.
std::vector<int64_t> invert_permutation(std::span<const int64_t> p);

}  // namespace dimple
