#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace dimple {

namespace {

// Round half away from zero with a truncating conversion, which vectorises (std::lround does not).
inline int32_t round_to_int(float v) { return int32_t(v + (v >= 0.f ? 0.5f : -0.5f)); }

float max_abs(const float* x, int64_t n) {
    float m = 0.f;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(x[i]));
    return m;
}

}  // namespace

void quantize_weight_rows(DType from, const void* w, int64_t rows, int64_t k, int8_t* q, float* scale) {
    const size_t elem = dtype_size(from);
#pragma omp parallel
    {
        std::vector<float> row(static_cast<size_t>(k));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            convert_to_f32(from, static_cast<const char*>(w) + size_t(r * k) * elem, row.data(), size_t(k));
            const float amax = max_abs(row.data(), k);
            scale[r] = amax / 127.f;
            const float inv = amax > 0.f ? 127.f / amax : 0.f;
            int8_t* qr = q + r * k;
            for (int64_t i = 0; i < k; ++i) qr[i] = int8_t(std::clamp(round_to_int(row[size_t(i)] * inv), -127, 127));
        }
    }
}

void dequantize_weight_rows(const int8_t* q, const float* scale, int64_t rows, int64_t k, float* w) {
#pragma omp parallel for if (rows * k > 65536)
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < k; ++i) w[r * k + i] = float(q[r * k + i]) * scale[r];
}

void quantize_activation_rows(const float* x, int64_t rows, int64_t k, ActivationCode code, uint8_t* q,
                              float* scale, int32_t* zero) {
#pragma omp parallel for if (rows * k > 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * k;
        float lo = 0.f, hi = 0.f;
        for (int64_t i = 0; i < k; ++i) lo = std::min(lo, xr[i]), hi = std::max(hi, xr[i]);
        const float s = (hi - lo) / float(code.levels);
        const float inv = s > 0.f ? 1.f / s : 0.f;
        const int32_t z = std::clamp(round_to_int(-lo * inv), 0, code.levels);
        scale[r] = s;
        zero[r] = z;
        uint8_t* qr = q + r * k;
        for (int64_t i = 0; i < k; ++i) qr[i] = uint8_t(std::clamp(round_to_int(xr[i] * inv) + z, 0, code.levels));
    }
}

void dequantize_products(float* y, const int32_t* colsum, const float* x_scale, const int32_t* zero,
                         const float* w_scale, const float* bias, int64_t rows, int64_t n) {
#pragma omp parallel for if (rows * n > 32768)
    for (int64_t m = 0; m < rows; ++m) {
        float* out = y + m * n;
        const float xs = x_scale[m];
        const int32_t z = zero[m];
        for (int64_t j = 0; j < n; ++j) {
            int32_t acc;  // the s32 sum oneDNN stored in this slot (memcpy: no type punning)
            std::memcpy(&acc, out + j, sizeof acc);
            const float v = float(acc - z * colsum[j]) * (xs * w_scale[j]);
            out[j] = bias ? v + bias[j] : v;
        }
    }
}

}  // namespace dimple
