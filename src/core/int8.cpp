// The int8 weight kernels of core/int8.h, compiled once per instruction set (core/isa.h): loading a
// bf16 checkpoint for `--compute int8` quantizes every weight here.
#include "core/int8.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/isa.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

namespace {

// Round half away from zero with a truncating conversion, which vectorises (std::lround does not).
inline int32_t round_to_int(float v) { return int32_t(v + (v >= 0.f ? 0.5f : -0.5f)); }

}  // namespace

void quantize_weight_rows(DType from, const void* w, int64_t rows, int64_t k, int8_t* q, float* scale) {
    const size_t elem = dtype_size(from);
#pragma omp parallel
    {
        std::vector<float> row(static_cast<size_t>(k));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            convert_to_f32(from, static_cast<const char*>(w) + size_t(r * k) * elem, row.data(), size_t(k));
            float amax = 0.f;
            for (float v : row) amax = std::max(amax, std::abs(v));
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

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
