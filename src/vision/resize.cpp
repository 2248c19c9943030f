#include "vision/resize.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dimple {

namespace {

// Fixed-point weights: 8-bit samples times weights whose absolute sum exceeds 1 (the cubic's
// negative lobes) must fit an int32 accumulator, which leaves 22 fraction bits. PIL's choice.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Keys' cubic convolution kernel with a = -0.5 (PIL's BICUBIC), support 2.
double cubic(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Along one axis, for each output pixel: the first input pixel it reads, how many, and their
// fixed-point weights (row o of `weights`, `stride` entries a row).
struct Taps {
    int stride = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights;
};

// The arithmetic follows PIL's step by step (same operations in the same order, in double), since
// a weight one unit off in the last fixed-point bit can move an output byte.
Taps bicubic_taps(int in_size, int out_size) {
    const double scale = double(in_size) / out_size;
    // Shrinking stretches the kernel over `scale` input pixels: that is the antialiasing.
    const double filter_scale = std::max(scale, 1.0);
    const double support = 2.0 * filter_scale;
    const double inv_filter_scale = 1.0 / filter_scale;
    Taps t;
    t.stride = int(std::ceil(support)) * 2 + 1;
    t.first.resize(size_t(out_size));
    t.count.resize(size_t(out_size));
    t.weights.assign(size_t(out_size) * size_t(t.stride), 0);
    std::vector<double> w(size_t(t.stride));
    for (int o = 0; o < out_size; ++o) {
        const double center = (o + 0.5) * scale;
        // int() truncates toward zero before the clamp, as PIL's cast does.
        const int lo = std::max(int(center - support + 0.5), 0);
        const int hi = std::min(int(center + support + 0.5), in_size);
        const int n = hi - lo;
        check(n > 0 && n <= t.stride, "resize: bad filter span");  // cannot happen; guards the buffers
        double sum = 0.0;
        for (int k = 0; k < n; ++k) {
            w[size_t(k)] = cubic((k + lo - center + 0.5) * inv_filter_scale);
            sum += w[size_t(k)];
        }
        int32_t* fixed = &t.weights[size_t(o) * size_t(t.stride)];
        for (int k = 0; k < n; ++k) {
            const double v = sum != 0.0 ? w[size_t(k)] / sum : w[size_t(k)];
            fixed[k] = int32_t(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
        }
        t.first[size_t(o)] = lo;
        t.count[size_t(o)] = n;
    }
    return t;
}

// Rounds away the fraction (the accumulator starts at one half) and clips to 0..255.
uint8_t clip8(int32_t acc) {
    if (acc >= (1 << kPrecisionBits << 8)) return 255;
    if (acc <= 0) return 0;
    return uint8_t(acc >> kPrecisionBits);
}

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

// Worth threads only for big pictures; small ones (the fuzzer's, most tests') stay serial.
constexpr int64_t kParallelWork = 1 << 20;

// Output rows [0, rows) from input rows [row0, row0 + rows), each resampled along x.
void resample_rows(const Image& src, int row0, Image& dst, const Taps& t) {
    const int out_w = dst.width;
#pragma omp parallel for schedule(static) if (int64_t(dst.height) * out_w * t.stride > kParallelWork)
    for (int y = 0; y < dst.height; ++y) {
        const uint8_t* in = &src.rgb[size_t(row0 + y) * size_t(src.width) * 3];
        uint8_t* out = &dst.rgb[size_t(y) * size_t(out_w) * 3];
        for (int x = 0; x < out_w; ++x) {
            const int32_t* k = &t.weights[size_t(x) * size_t(t.stride)];
            const uint8_t* p = in + size_t(t.first[size_t(x)]) * 3;
            int32_t r = kHalf, g = kHalf, b = kHalf;
            for (int i = 0; i < t.count[size_t(x)]; ++i, p += 3) {
                r += p[0] * k[i];
                g += p[1] * k[i];
                b += p[2] * k[i];
            }
            out[x * 3] = clip8(r), out[x * 3 + 1] = clip8(g), out[x * 3 + 2] = clip8(b);
        }
    }
}

// Every output row resampled along y from rows first[y] - row0 ... of `src`.
void resample_columns(const Image& src, int row0, Image& dst, const Taps& t) {
    const size_t row_bytes = size_t(src.width) * 3;
#pragma omp parallel for schedule(static) if (int64_t(dst.height) * dst.width * t.stride > kParallelWork)
    for (int y = 0; y < dst.height; ++y) {
        const int32_t* k = &t.weights[size_t(y) * size_t(t.stride)];
        const uint8_t* in = &src.rgb[size_t(t.first[size_t(y)] - row0) * row_bytes];
        uint8_t* out = &dst.rgb[size_t(y) * row_bytes];
        for (size_t x = 0; x < row_bytes; ++x) {
            int32_t acc = kHalf;
            for (int i = 0; i < t.count[size_t(y)]; ++i) acc += in[size_t(i) * row_bytes + x] * k[i];
            out[x] = clip8(acc);
        }
    }
}

}  // namespace

Image resize_bicubic(const Image& src, int width, int height) {
    check(src.width > 0 && src.height > 0 && src.rgb.size() == size_t(src.width) * size_t(src.height) * 3,
          "resize: malformed source image (", src.width, "x", src.height, ", ", src.rgb.size(), " bytes)");
    check(width > 0 && height > 0, "resize: bad target size ", width, "x", height);
    const bool along_x = width != src.width, along_y = height != src.height;
    if (!along_x && !along_y) return src;

    const Taps ty = bicubic_taps(src.height, height);
    // The horizontal pass only needs the input rows that some output row reads.
    const int row0 = ty.first.front(), row1 = ty.first.back() + ty.count.back();
    Image tmp;
    if (along_x) {
        tmp = Image::blank(width, row1 - row0);
        resample_rows(src, row0, tmp, bicubic_taps(src.width, width));
        if (!along_y) return tmp;
    }
    const Image& mid = along_x ? tmp : src;
    Image out = Image::blank(width, height);
    resample_columns(mid, along_x ? row0 : 0, out, ty);
    return out;
}

}  // namespace dimple
