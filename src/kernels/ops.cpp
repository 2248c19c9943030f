// The row kernels of kernels/ops.h, compiled once per instruction set (core/isa.h).
#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/isa.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

void rms_norm_row(const float* x, const float* w, float* y, int64_t n, float eps) {
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += x[i] * x[i];
    const float inv = 1.0f / std::sqrt(sum / float(n) + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

const float* normed_row(const float* x, int64_t n, RowNorm norm) {
    if (!norm) return x;
    thread_local std::vector<float> normed;  // reused: no allocation per row
    normed.resize(size_t(n));
    rms_norm_row(x, norm.weight, normed.data(), n, norm.eps);
    return normed.data();
}

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
#pragma omp parallel for if (rows * n > 32768)
    for (int64_t r = 0; r < rows; ++r) rms_norm_row(x + r * n, w, y + r * n, n, eps);
}

// Two passes (the mean, then the centred squares), summed in double: a residual stream whose mean is
// large against its spread (SigLIP's outlier channels) would otherwise lose the spread's digits.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
#pragma omp parallel for if (rows * n > 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * n;
        float* yr = y + r * n;
        double sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t i = 0; i < n; ++i) sum += xr[i];
        const double mean = sum / double(n);
        double sq = 0;
#pragma omp simd reduction(+ : sq)
        for (int64_t i = 0; i < n; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
        const float m = float(mean), inv = float(1.0 / std::sqrt(sq / double(n) + double(eps)));
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - m) * inv * w[i] + b[i];
    }
}

void apply_rotary(float* x, int64_t heads, int64_t head_stride, int64_t d, const float* cos,
                  const float* sin) {
    const int64_t half = d / 2;
    for (int64_t h = 0; h < heads; ++h) {
        float* v = x + h * head_stride;
        for (int64_t i = 0; i < half; ++i) {
            const float a = v[i], b = v[i + half];
            v[i] = a * cos[i] - b * sin[i];
            v[i + half] = b * cos[i + half] + a * sin[i + half];
        }
    }
}

// `omp simd` reductions let the compiler vectorise the max and the sum (reassociating them, as
// torch's vectorised softmax does too).
void softmax(float* x, int64_t n) {
    float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
        x[i] = fast_exp(x[i] - mx);
        sum += x[i];
    }
    for (int64_t i = 0; i < n; ++i) x[i] /= sum;  // divide, as torch does, not multiply by 1/sum
}

void silu_mul_rows(const float* gate_up, int64_t rows, int64_t n, float* out) {
#pragma omp parallel for if (rows * n > 65536)
    for (int64_t r = 0; r < rows; ++r) {
        const float* g = gate_up + r * 2 * n;
        float* o = out + r * n;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = silu(g[i]) * g[n + i];
    }
}

void gelu_erf_inplace(float* x, int64_t n) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) x[i] = gelu_erf(x[i]);
}

void gelu_tanh_inplace(float* x, int64_t n) {
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) x[i] = gelu_tanh(x[i]);
}

void silu_inplace(float* x, int64_t n) {
#pragma omp parallel for simd if (n > 65536)
    for (int64_t i = 0; i < n; ++i) x[i] = silu(x[i]);
}

void add_inplace(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
