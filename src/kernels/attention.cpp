#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/onednn.h"
#include "kernels/ops.h"

namespace dimple {

namespace {

using dt = dnnl::memory::data_type;

// A strided 2-D f32 matrix view for oneDNN: rows x cols with the given row and column strides.
dnnl::memory::desc view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
    return dnnl::memory::desc({rows, cols}, dt::f32, {row_stride, col_stride});
}

// The two products of one tile of one head, compiled once per shape: scores = scale * q k^T,
// out = p v.
struct HeadProducts {
    dnnl::matmul scores, mix;
};

const HeadProducts& head_products(const AttentionShape& s, int64_t rows) {
    using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
    static std::mutex mu;
    static std::map<Key, HeadProducts> cache;
    const Key key{rows, s.kv_len, s.head_dim, s.q_stride, s.k_stride, s.v_stride, s.out_stride};
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const int64_t D = s.head_dim;
    dnnl::primitive_attr scale;
    scale.set_output_scales(0, {1.0f / std::sqrt(float(D))});
    const auto q = view(rows, D, s.q_stride, 1), kt = view(D, s.kv_len, 1, s.k_stride);
    const auto sc = view(rows, s.kv_len, s.kv_len, 1);
    const auto v = view(s.kv_len, D, s.v_stride, 1), o = view(rows, D, s.out_stride, 1);
    HeadProducts hp{
        dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(q, kt, sc), scale, onednn_engine())),
        dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(sc, v, o), onednn_engine()))};
    return cache.emplace(key, std::move(hp)).first->second;
}

// Query rows per tile: a tile's scores stay within about a quarter of a typical 1-2 MiB L2 cache,
// beside the head's keys and values, so the softmax and the value mix read them from cache. A
// whole row of scores is kept (no online softmax over key tiles): at the longest prompts Dimple
// takes (32k positions) one row is 128 KiB.
int64_t tile_rows(const AttentionShape& s) {
    constexpr int64_t kTileBytes = 256 << 10;
    const int64_t rows = std::max<int64_t>(1, kTileBytes / (s.kv_len * int64_t(sizeof(float))));
    return std::min(rows, s.q_len);
}

}  // namespace

// Work items are (head, tile of query rows), spread over the threads; each runs its two small
// products through oneDNN on its own thread (oneDNN does not nest parallelism), masks and softmaxes
// its rows in between. GQA heads read their group's shared keys/values.
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask) {
    const int64_t group = s.q_heads / s.kv_heads, D = s.head_dim;
    const int64_t tile = tile_rows(s), tiles = (s.q_len + tile - 1) / tile;
    const int64_t last = s.q_len - (tiles - 1) * tile;
    const HeadProducts& full = head_products(s, tile);
    const HeadProducts& tail = head_products(s, last);
    constexpr float kMasked = -std::numeric_limits<float>::infinity();

#pragma omp parallel if (s.q_heads * tiles > 1)
    {
        std::vector<float> scores(static_cast<size_t>(tile * s.kv_len));
        dnnl::stream& stream = onednn_stream();
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < s.q_heads * tiles; ++task) {
            const int64_t h = task / tiles, kh = h / group, r0 = (task % tiles) * tile;
            const int64_t rows = std::min(tile, s.q_len - r0);
            const HeadProducts& hp = rows == tile ? full : tail;
            dnnl::memory sc(view(rows, s.kv_len, s.kv_len, 1), onednn_engine(), scores.data());
            dnnl::memory qm(view(rows, D, s.q_stride, 1), onednn_engine(), const_cast<float*>(q + r0 * s.q_stride + h * D));
            dnnl::memory km(view(D, s.kv_len, 1, s.k_stride), onednn_engine(), const_cast<float*>(k + kh * D));
            dnnl::memory vm(view(s.kv_len, D, s.v_stride, 1), onednn_engine(), const_cast<float*>(v + kh * D));
            dnnl::memory om(view(rows, D, s.out_stride, 1), onednn_engine(), out + r0 * s.out_stride + h * D);
            hp.scores.execute(stream, {{DNNL_ARG_SRC, qm}, {DNNL_ARG_WEIGHTS, km}, {DNNL_ARG_DST, sc}});
            stream.wait();
            for (int64_t i = 0; i < rows; ++i) {
                float* row = scores.data() + i * s.kv_len;
                const int64_t qi = r0 + i;
                if (mask.key_valid) {
                    const bool q_ok = mask.query_valid[qi];
                    for (int64_t j = 0; j < s.kv_len; ++j)
                        if (j != mask.self_key[qi] && !(q_ok && mask.key_valid[j])) row[j] = kMasked;
                }
                softmax(row, s.kv_len);
            }
            hp.mix.execute(stream, {{DNNL_ARG_SRC, sc}, {DNNL_ARG_WEIGHTS, vm}, {DNNL_ARG_DST, om}});
            stream.wait();
        }
    }
}

}  // namespace dimple
