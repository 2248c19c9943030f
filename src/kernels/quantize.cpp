// The activation kernels of kernels/quantize.h, compiled once per instruction set (core/isa.h).
#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/isa.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

namespace {

// Round half away from zero with a truncating conversion, which vectorises (std::lround does not).
inline int32_t round_to_int(float v) { return int32_t(v + (v >= 0.f ? 0.5f : -0.5f)); }


}  // namespace

void quantize_activation_rows(const float* x, int64_t rows, int64_t k, ActivationCode code, uint8_t* q,
                              float* scale, int32_t* zero, RowNorm norm) {
#pragma omp parallel for if (rows * k > 32768)
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = normed_row(x + r * k, k, norm);
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

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
