#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace dimple {

namespace {

Tensor gather(const Tensor& t, int64_t first_rows, const Tensor& extra, std::span<const int64_t> extra_rows) {
    const int64_t width = t.dim(2);
    Tensor out = Tensor::f32({1, first_rows + int64_t(extra_rows.size()), width});
    const size_t row_bytes = size_t(width) * sizeof(float);
    std::memcpy(out.data<float>(), t.data<float>(), size_t(first_rows) * row_bytes);
    for (size_t i = 0; i < extra_rows.size(); ++i)
        std::memcpy(out.data<float>() + (first_rows + int64_t(i)) * width, extra.data<float>() + extra_rows[i] * width,
                    row_bytes);
    return out;
}

}  // namespace

KvCache join_rows(const KvCache& a, const KvCache& b, std::span<const int64_t> second) {
    check(a.batch == 1 && b.batch == 1 && a.k.size() == b.k.size(), "join_rows: caches of one sequence each");
    for (int64_t r : second) check(r >= 0 && r < b.len, "join_rows: row ", r, " outside the cache");
    KvCache out{1, a.len + int64_t(second.size()), {}, {}, std::vector<uint8_t>(size_t(a.len) + second.size(), 1)};
    for (size_t l = 0; l < a.k.size(); ++l) {
        out.k.push_back(gather(a.k[l], a.layer_len(l), b.k[l], second));
        out.v.push_back(gather(a.v[l], a.layer_len(l), b.v[l], second));
    }
    return out;
}

void drop_rows(KvCache& c, size_t from_layer, std::span<const int64_t> drop) {
    check(c.batch == 1, "drop_rows: a cache of one sequence");
    for (size_t l = from_layer; l < c.k.size(); ++l) {
        const int64_t n = c.layer_len(l);
        std::vector<int64_t> keep;
        size_t d = 0;
        for (int64_t r = 0; r < n; ++r) {
            while (d < drop.size() && drop[d] < r) ++d;
            if (d == drop.size() || drop[d] != r) keep.push_back(r);
        }
        c.k[l] = gather(c.k[l], 0, c.k[l], keep);
        c.v[l] = gather(c.v[l], 0, c.v[l], keep);
    }
}

}  // namespace dimple
