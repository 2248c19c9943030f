#include "vision/windows.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dimple {

int64_t vision_patch_count(std::span<const ImageGrid> grids, int merge) {
    int64_t n = 0;
    for (const ImageGrid& g : grids) {
        check(g.t > 0 && g.h > 0 && g.w > 0 && g.h % merge == 0 && g.w % merge == 0,
              "vision grid (", g.t, ", ", g.h, ", ", g.w, ") is not a positive grid divisible by the ",
              "merge size ", merge);
        n += g.t * g.h * g.w;
    }
    return n;
}

std::vector<float> vision_rotary_inv_freq(int head_dim) {
    check(head_dim % 4 == 0, "vision head_dim ", head_dim, " is not a multiple of 4");
    const int dim = head_dim / 2;
    std::vector<float> inv(size_t(head_dim / 4));
    for (size_t i = 0; i < inv.size(); ++i) {
        const float exponent = float(2 * i) / float(dim);
        inv[i] = 1.0f / float(std::pow(10000.0, double(exponent)));
    }
    return inv;
}

Tensor vision_rotary_angles(std::span<const ImageGrid> grids, int merge, int head_dim) {
    const int64_t n = vision_patch_count(grids, merge);
    const std::vector<float> inv = vision_rotary_inv_freq(head_dim);
    const int64_t nf = int64_t(inv.size());
    Tensor out = Tensor::f32({n, 2 * nf});
    int64_t p = 0;
    for (const ImageGrid& g : grids)
        for (int64_t t = 0; t < g.t; ++t)
            for (int64_t hb = 0; hb < g.h / merge; ++hb)
                for (int64_t wb = 0; wb < g.w / merge; ++wb)
                    for (int64_t i = 0; i < merge; ++i)
                        for (int64_t j = 0; j < merge; ++j, ++p) {
                            const float row = float(hb * merge + i), col = float(wb * merge + j);
                            float* a = out.row(p);
                            for (int64_t f = 0; f < nf; ++f) {
                                a[f] = row * inv[size_t(f)];
                                a[nf + f] = col * inv[size_t(f)];
                            }
                        }
    return out;
}

WindowLayout vision_window_layout(std::span<const ImageGrid> grids, int merge, int window_units) {
    vision_patch_count(grids, merge);
    const int64_t W = window_units, unit = int64_t(merge) * merge;
    WindowLayout L;
    L.cu_window_seqlens_raw.push_back(0);
    L.cu_seqlens.push_back(0);
    int64_t base = 0;  // merge units of the images before this one
    for (const ImageGrid& g : grids) {
        const int64_t mh = g.h / merge, mw = g.w / merge;
        // The reference pads each side by W - side % W, a whole empty window when side % W == 0.
        const int64_t nwh = mh / W + 1, nww = mw / W + 1;
        for (int64_t t = 0; t < g.t; ++t) {
            const int64_t frame = base + t * mh * mw;
            for (int64_t a = 0; a < nwh; ++a)
                for (int64_t b = 0; b < nww; ++b) {
                    int64_t count = 0;
                    for (int64_t r = a * W; r < std::min(a * W + W, mh); ++r)
                        for (int64_t c = b * W; c < std::min(b * W + W, mw); ++c, ++count)
                            L.window_index.push_back(frame + r * mw + c);
                    L.cu_window_seqlens_raw.push_back(L.cu_window_seqlens_raw.back() + count * unit);
                }
            L.cu_seqlens.push_back(L.cu_seqlens.back() + g.h * g.w);
        }
        base += g.t * mh * mw;
    }
    L.cu_window_seqlens = L.cu_window_seqlens_raw;
    L.cu_window_seqlens.erase(std::unique(L.cu_window_seqlens.begin(), L.cu_window_seqlens.end()),
                              L.cu_window_seqlens.end());
    return L;
}

std::vector<int64_t> invert_permutation(std::span<const int64_t> p) {
    std::vector<int64_t> inv(p.size(), -1);
    for (size_t i = 0; i < p.size(); ++i) {
        check(p[i] >= 0 && size_t(p[i]) < p.size() && inv[size_t(p[i])] < 0,
              "invert_permutation: not a permutation (entry ", i, " = ", p[i], ")");
        inv[size_t(p[i])] = int64_t(i);
    }
    return inv;
}

}  // namespace dimple
