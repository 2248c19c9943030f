#include "model/positions.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dimple {

Positions compute_positions(std::span<const int64_t> ids, std::span<const uint8_t> valid,
                            int64_t image_token, std::span<const ImageGrid> grids, int merge) {
    const size_t L = ids.size();
    Positions p;
    p.ids.assign(L, {1, 1, 1});
    int64_t next = 0;  // the id the next text token gets
    size_t image = 0;
    for (size_t i = 0; i < L;) {
        if (!valid.empty() && !valid[i]) {
            ++i;
            continue;
        }
        if (ids[i] != image_token || image_token < 0) {
            p.ids[i] = {next, next, next};
            ++next;
            ++i;
            continue;
        }
        check(image < grids.size(), "the prompt has more image tokens than images (", grids.size(),
              " given)");
        const ImageGrid& g = grids[image++];
        const int64_t gh = g.h / merge, gw = g.w / merge;
        const int64_t count = g.t * gh * gw;
        check(i + size_t(count) <= L, "image ", image, " needs ", count,
              " image tokens but the prompt has fewer");
        int64_t max_id = next - 1;
        for (int64_t k = 0; k < count; ++k, ++i) {
            check(ids[i] == image_token, "image ", image, " needs ", count,
                  " consecutive image tokens but the prompt has fewer");
            const int64_t t = k / (gh * gw), h = (k / gw) % gh, w = k % gw;
            p.ids[i] = {next + t, next + h, next + w};
            max_id = std::max({max_id, next + t, next + h, next + w});
        }
        next = max_id + 1;
    }
    check(image == grids.size(), "the prompt has image tokens for ", image, " images but ",
          grids.size(), " were given");
    p.rope_delta = next - int64_t(L);
    return p;
}

Positions sequential_positions(size_t n) {
    Positions p;
    for (size_t i = 0; i < n; ++i) p.ids.push_back({int64_t(i), int64_t(i), int64_t(i)});
    return p;
}

RopeTable rope_table(std::span<const std::array<int64_t, 3>> ids, int64_t head_dim, double theta,
                     const std::array<int, 3>& mrope_section) {
    const int64_t half = head_dim / 2;
    std::vector<float> inv_freq(static_cast<size_t>(half));
    std::vector<int> section(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i) {
        const float exponent = float(2 * i) / float(head_dim);
        inv_freq[size_t(i)] = 1.0f / std::pow(float(theta), exponent);
        section[size_t(i)] = i < mrope_section[0] ? 0 : i < mrope_section[0] + mrope_section[1] ? 1 : 2;
    }
    RopeTable t;
    t.head_dim = head_dim;
    t.cos.resize(ids.size() * size_t(head_dim));
    t.sin.resize(ids.size() * size_t(head_dim));
    for (size_t r = 0; r < ids.size(); ++r) {
        for (int64_t i = 0; i < half; ++i) {
            const float angle = float(ids[r][size_t(section[size_t(i)])]) * inv_freq[size_t(i)];
            const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
            t.cos[r * size_t(head_dim) + size_t(i)] = t.cos[r * size_t(head_dim) + size_t(i + half)] = c;
            t.sin[r * size_t(head_dim) + size_t(i)] = t.sin[r * size_t(head_dim) + size_t(i + half)] = s;
        }
    }
    return t;
}

}  // namespace dimple
