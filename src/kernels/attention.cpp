#include "kernels/attention.h"

#include <cmath>
#include <limits>
#include <tuple>

#include "core/lru_cache.h"
#include "core/tensor.h"
#include "kernels/onednn.h"
#include "kernels/ops.h"

namespace dimple {

namespace {

using dt = dnnl::memory::data_type;

// A strided 2-D f32 matrix view for oneDNN: rows x cols with the given row and column strides.
dnnl::memory::desc view(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
    return dnnl::memory::desc({rows, cols}, dt::f32, {row_stride, col_stride});
}

// The two products of one head, compiled per shape: scores = scale * q k^T, out = p v.
struct HeadProducts {
    dnnl::matmul scores, mix;
};

HeadProducts compile_head_products(const AttentionShape& s) {
    const int64_t D = s.head_dim;
    dnnl::primitive_attr scale;
    scale.set_output_scales(0, {1.0f / std::sqrt(float(D))});
    const auto q = view(s.q_len, D, s.q_stride, 1), kt = view(D, s.kv_len, 1, s.k_stride);
    const auto sc = view(s.q_len, s.kv_len, s.kv_len, 1);
    const auto v = view(s.kv_len, D, s.v_stride, 1), o = view(s.q_len, D, s.out_stride, 1);
    return {dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(q, kt, sc), scale, onednn_engine())),
            dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(sc, v, o), onednn_engine()))};
}

// Shapes recently used: a decoding step uses a few (the vision tower's windows, the prompt, the
// answer rows against the cached prompt); every new prompt length adds some.
HeadProducts head_products(const AttentionShape& s) {
    using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
    static LruCache<Key, HeadProducts> cache(64);
    const Key key{s.q_len, s.kv_len, s.head_dim, s.q_stride, s.k_stride, s.v_stride, s.out_stride};
    return cache.get(key, [&] { return compile_head_products(s); });
}

}  // namespace

// Per query head: the [q_len, kv_len] score matrix through oneDNN (the only one held at a time),
// the mask, a row softmax, and the value mix. GQA heads read their group's shared keys/values.
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask) {
    const int64_t group = s.q_heads / s.kv_heads, D = s.head_dim;
    const HeadProducts hp = head_products(s);
    Tensor score_rows = Tensor::f32({s.q_len, s.kv_len});  // a large block: reused between calls
    float* scores = score_rows.data<float>();
    dnnl::stream& stream = onednn_stream();
    const auto sc_desc = view(s.q_len, s.kv_len, s.kv_len, 1);
    dnnl::memory sc_mem(sc_desc, onednn_engine(), scores);
    constexpr float kMasked = -std::numeric_limits<float>::infinity();

    for (int64_t h = 0; h < s.q_heads; ++h) {
        const int64_t kh = h / group;
        dnnl::memory qm(view(s.q_len, D, s.q_stride, 1), onednn_engine(), const_cast<float*>(q + h * D));
        dnnl::memory km(view(D, s.kv_len, 1, s.k_stride), onednn_engine(), const_cast<float*>(k + kh * D));
        dnnl::memory vm(view(s.kv_len, D, s.v_stride, 1), onednn_engine(), const_cast<float*>(v + kh * D));
        dnnl::memory om(view(s.q_len, D, s.out_stride, 1), onednn_engine(), out + h * D);
        hp.scores.execute(stream, {{DNNL_ARG_SRC, qm}, {DNNL_ARG_WEIGHTS, km}, {DNNL_ARG_DST, sc_mem}});
        stream.wait();
#pragma omp parallel for if (s.q_len * s.kv_len > 16384)
        for (int64_t i = 0; i < s.q_len; ++i) {
            float* row = scores + i * s.kv_len;
            if (mask.key_valid) {
                const bool q_ok = mask.query_valid[i];
                for (int64_t j = 0; j < s.kv_len; ++j)
                    if (j != mask.self_key[i] && !(q_ok && mask.key_valid[j])) row[j] = kMasked;
            }
            softmax(row, s.kv_len);
        }
        hp.mix.execute(stream, {{DNNL_ARG_SRC, sc_mem}, {DNNL_ARG_WEIGHTS, vm}, {DNNL_ARG_DST, om}});
        stream.wait();
    }
}

}  // namespace dimple
