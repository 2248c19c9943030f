#include "decode/schedule.h"

#include <cmath>

#include "core/error.h"

namespace dimple {

std::vector<float> diffusion_timesteps(int steps, float eps) {
    check(steps >= 1, "steps must be at least 1 (got ", steps, ")");
    const int64_t n = steps + 1;
    const float start = 1.0f, end = eps;
    const float step = (end - start) / float(steps);
    const int64_t halfway = n / 2;
    auto scalar = [&](int64_t i) {
        return i < halfway ? std::fma(step, float(i), start) : std::fma(-step, float(n - 1 - i), end);
    };
    std::vector<float> t(static_cast<size_t>(n));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int64_t v = 0; v < 16; v += 8) {
            const float base = scalar(i + v);
            for (int64_t j = 0; j < 8; ++j) {
                const float offset = step * float(j);  // rounded on its own, then added
                t[size_t(i + v + j)] = base + offset;
            }
        }
    for (; i < n; ++i) t[size_t(i)] = scalar(i);
    return t;
}

DimTransfer dim_transfer(const std::vector<float>& timesteps, int step, int64_t masks, int64_t initial) {
    const int last = int(timesteps.size()) - 1;
    DimTransfer d;
    d.ratio = float(masks) / float(initial);
    int s = step + 1;
    while (s < last && !(timesteps[size_t(s)] < d.ratio)) ++s;
    for (; s < last; ++s) {
        const float keep = timesteps[size_t(s)] / d.ratio;
        const float frac = 1.0f - keep;
        const int64_t n = int64_t(float(masks) * frac);
        if (n >= 1) {
            d.count = n;
            d.s = s;
            return d;
        }
    }
    d.count = masks;
    d.s = last;
    return d;
}

int64_t dream_transfer(const std::vector<float>& timesteps, int step, int64_t masks) {
    if (step + 2 >= int(timesteps.size())) return masks;  // last step
    const float frac = 1.0f - timesteps[size_t(step + 1)] / timesteps[size_t(step)];
    return int64_t(float(masks) * frac);
}

}  // namespace dimple
