#include "vision/anyres_layout.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "vision/anyres.h"

namespace dimple {

namespace {

constexpr int P = kLlavaPatchesPerSide;

// The tiles' feature map: position (y, x) is row (y % 27, x % 27) of tile (y / 27, x / 27), read in
// place from the projected crops (a 6 x 6 grid of 4096-wide rows would be 430 MB as one map).
struct TileMap {
    const float* tiles;  // crop 1's first row: tile t is crop 1 + t
    int64_t cols, width;

    const float* at(int64_t y, int64_t x) const {
        const int64_t tile = (y / P) * cols + x / P, patch = (y % P) * P + x % P;
        return tiles + (tile * kLlavaPatches + patch) * width;
    }
};

// One axis of torch's bilinear resize (align_corners=False, no antialias), in float as torch's
// CPU kernel computes it: source index, its neighbour clamped to the edge, and their weights.
struct Tap {
    int64_t i0, i1;
    float w0, w1;
};
Tap bilinear_tap(int64_t in, int64_t out, int64_t dst) {
    const float scale = float(in) / float(out);
    float src = scale * (float(dst) + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    const int64_t i0 = int64_t(src);
    const float w1 = src - float(i0);
    return {i0, i0 < in - 1 ? i0 + 1 : i0, 1.0f - w1, w1};
}

void copy_row(float* dst, const float* src, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }

// "spatial_maxpool2x2": torch's max_pool2d(2) over the map (windows from the top left, an odd last
// row or column dropped; a NaN wins, as in torch's scan); "spatial": the map row by row.
void pool_or_copy(const TileMap& map, const AnyresGeometry& g, float* dst, int64_t C) {
    const int64_t k = g.merge == TileMerge::Maxpool2x2 ? 2 : 1;
    for (int64_t y = 0; y < g.out_h; ++y)
        for (int64_t x = 0; x < g.out_w; ++x, dst += C) {
            copy_row(dst, map.at(k * y, k * x), C);
            for (int64_t i = 1; i < k * k; ++i) {
                const float* src = map.at(k * y + i / k, k * x + i % k);
                for (int64_t c = 0; c < C; ++c)
                    if (src[c] > dst[c] || std::isnan(src[c])) dst[c] = src[c];
            }
        }
}

}  // namespace

double python_floordiv(double a, double b) {
    // CPython's float_floor_div (_float_div_mod): the quotient of a - fmod(a, b), snapped to an integer.
    double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
    if (div == 0) return std::copysign(0.0, a / b);
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return floordiv;
}

int64_t AnyresGeometry::rows() const {
    const int64_t newline = merge == TileMerge::Unpad ? 1 : 0;
    if (grid_cols == 0) return kLlavaPatches + newline;
    return (base_view ? kLlavaPatches : 0) + int64_t(out_h) * (out_w + newline);
}

AnyresGeometry anyres_geometry(int width, int height, const LlavaVisionConfig& config) {
    check(width > 0 && height > 0, "LLaDA-V image rows: empty image (", width, "x", height, ")");
    AnyresGeometry g;
    g.merge = config.merge;
    g.base_view = config.base_view;
    if (config.aspect == AspectMode::Pad) return g;
    const auto [w, h] = select_best_resolution(width, height, config.grid_pinpoints);
    g.grid_cols = w / kLlavaCropSize;
    g.grid_rows = h / kLlavaCropSize;
    g.crops = (g.base_view ? 1 : 0) + g.grid_cols * g.grid_rows;
    g.map_h = g.grid_rows * P;
    g.map_w = g.grid_cols * P;
    if (g.merge != TileMerge::Unpad) {  // max_pool2d(2) floors odd sizes; "spatial" keeps the map
        const int k = g.merge == TileMerge::Maxpool2x2 ? 2 : 1;
        g.unpadded_h = g.map_h;
        g.unpadded_w = g.map_w;
        g.out_h = g.map_h / k;
        g.out_w = g.map_w / k;
        return g;
    }
    // unpad_image: the canvas's black bars, in map units (double, int() truncation, // 2 of a
    // non-negative int); an odd remainder keeps the extra row or column.
    g.unpadded_h = g.map_h;
    g.unpadded_w = g.map_w;
    if (double(width) / height > double(g.map_w) / g.map_h) {
        const int new_h = int(height * (double(g.map_w) / width));
        g.top = (g.map_h - new_h) / 2;
        g.unpadded_h = g.map_h - 2 * g.top;
    } else {
        const int new_w = int(width * (double(g.map_h) / height));
        g.left = (g.map_w - new_w) / 2;
        g.unpadded_w = g.map_w - 2 * g.left;
    }
    g.times = std::sqrt(double(int64_t(g.unpadded_h) * g.unpadded_w) / double(int64_t(config.anyres_max) * P * P));
    g.resampled = g.times > 1.1;
    g.out_h = g.unpadded_h;
    g.out_w = g.unpadded_w;
    if (g.resampled) {
        g.out_h = int(python_floordiv(g.unpadded_h, g.times));
        g.out_w = int(python_floordiv(g.unpadded_w, g.times));
        check(g.out_h > 0 && g.out_w > 0, "LLaDA-V image rows: a ", width, "x", height,
              " image's feature map shrinks to nothing (", g.out_h, "x", g.out_w, ")");
    }
    return g;
}

Tensor image_rows(const Tensor& projected, const Tensor& newline, const AnyresGeometry& g, LayoutTrace* trace) {
    check(projected.dtype() == DType::F32 && projected.is_contiguous() && projected.ndim() == 3 &&
              projected.dim(0) == g.crops && projected.dim(1) == kLlavaPatches,
          "LLaDA-V image rows: projected crops ", shape_str(projected.shape()), " do not match the image's ",
          g.crops, " crops of ", kLlavaPatches, " rows");
    const int64_t C = projected.dim(2);
    check(newline.dtype() == DType::F32 && newline.numel() == C, "LLaDA-V image rows: image_newline ",
          shape_str(newline.shape()), " does not match the width ", C);
    Tensor out = Tensor::f32({g.rows(), C});
    const float* base = projected.data<float>();
    const float* nl = newline.data<float>();
    const int64_t first = g.grid_cols == 0 || g.base_view ? kLlavaPatches : 0;  // the map's first row
    std::memcpy(out.data<float>(), base, size_t(first * C) * sizeof(float));
    if (g.grid_cols == 0) {  // "pad": the lone crop, then one newline with unpad
        if (g.merge == TileMerge::Unpad) copy_row(out.row(kLlavaPatches), nl, C);
        return out;
    }

    const TileMap map{base + first * C, g.grid_cols, C};
    if (trace) {
        trace->map_before_unpad = Tensor::f32({g.map_h, g.map_w, C});
        for (int64_t y = 0; y < g.map_h; ++y)
            for (int64_t x = 0; x < g.map_w; ++x) copy_row(trace->map_before_unpad.row(y * g.map_w + x), map.at(y, x), C);
    }
    if (g.merge != TileMerge::Unpad) {
        pool_or_copy(map, g, out.row(first), C);
        return out;
    }
    // Map row y, then its newline; each map row is out_w rows of the unpadded (resampled) map.
    float* dst = out.row(first);
    for (int64_t y = 0; y < g.out_h; ++y) {
        const Tap ty = g.resampled ? bilinear_tap(g.unpadded_h, g.out_h, y) : Tap{y, y, 1.f, 0.f};
        for (int64_t x = 0; x < g.out_w; ++x, dst += C) {
            if (!g.resampled) {
                copy_row(dst, map.at(g.top + y, g.left + x), C);
                continue;
            }
            const Tap tx = bilinear_tap(g.unpadded_w, g.out_w, x);
            const float* a = map.at(g.top + ty.i0, g.left + tx.i0);
            const float* b = map.at(g.top + ty.i0, g.left + tx.i1);
            const float* c = map.at(g.top + ty.i1, g.left + tx.i0);
            const float* d = map.at(g.top + ty.i1, g.left + tx.i1);
            // torch's order: each source row mixed along x first, then the two rows along y.
            for (int64_t k = 0; k < C; ++k)
                dst[k] = (a[k] * tx.w0 + b[k] * tx.w1) * ty.w0 + (c[k] * tx.w0 + d[k] * tx.w1) * ty.w1;
        }
        copy_row(dst, nl, C);
        dst += C;
    }
    if (trace && g.resampled) {
        trace->map_after_interpolate = Tensor::f32({g.out_h, g.out_w, C});
        for (int64_t y = 0; y < g.out_h; ++y)
            std::memcpy(trace->map_after_interpolate.row(y * g.out_w),
                        out.row(first + y * (g.out_w + 1)), size_t(g.out_w * C) * sizeof(float));
    }
    return out;
}

}  // namespace dimple
