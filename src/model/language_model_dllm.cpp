// LanguageModel::forward_dllm: the decoder layers as LLaDA-V's dLLM-Cache hook replaces them
// (cache_hook_LLaDA_V.py's llada_cache_hook_feature; model/dllm_cache.h). In each of the hook's four
// cases the rows that get fresh queries, keys and values are exactly the rows whose attention and
// MLP outputs are recomputed and stored: all rows (both parts refreshed), the answer (answer only),
// the prompt plus the transfer rows (prompt only), the transfer rows (neither). Their queries attend
// to the whole sequence's keys and values as the cache then holds them, so one code path serves all
// four. With x a layer's input: h = x + att, out = h + mlp, att and mlp read from the cache rows.
#include <cstring>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "model/dllm_cache.h"
#include "model/language_model.h"

namespace dimple {

namespace {

// rows[i] of `src` (width floats each) into row i of `dst`, or back (scatter).
void gather_rows(const float* src, const std::vector<int64_t>& rows, int64_t width, float* dst) {
    for (size_t i = 0; i < rows.size(); ++i)
        std::memcpy(dst + int64_t(i) * width, src + rows[i] * width, size_t(width) * sizeof(float));
}

void scatter_rows(const float* src, const std::vector<int64_t>& rows, int64_t width, float* dst) {
    for (size_t i = 0; i < rows.size(); ++i)
        std::memcpy(dst + rows[i] * width, src + int64_t(i) * width, size_t(width) * sizeof(float));
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
    std::vector<int64_t> r;
    for (int64_t i = begin; i < end; ++i) r.push_back(i);
    return r;
}

}  // namespace

Tensor LanguageModel::forward_dllm(const Tensor& embeddings, std::span<const std::array<int64_t, 3>> positions,
                                   DllmCache& c) const {
    const int64_t T = embeddings.dim(0), H = cfg_.hidden_size, D = cfg_.head_dim();
    const int64_t nq = cfg_.num_heads, nkv = cfg_.num_kv_heads, KV = nkv * D, QKV = (nq + 2 * nkv) * D;
    const int64_t P = c.prompt_len, A = T - P;
    const float eps = float(cfg_.rms_norm_eps);
    check(embeddings.ndim() == 2 && embeddings.dim(1) == H && int64_t(positions.size()) == T,
          "dLLM-Cache forward: ", T, " rows with ", positions.size(), " positions");
    validate_dllm_cache(c.settings);
    check(P >= 1 && A >= 1, "dLLM-Cache forward: a sequence of ", T, " rows with a prompt of ", P,
          " needs prompt and answer rows");
    check(c.k.empty() == (c.forwards == 0) && (c.k.empty() || c.k.front().dim(0) == T),
          "dLLM-Cache forward: the cache holds another sequence (reset it for each generation)");
    const int t = c.forwards + 1;
    const DllmRefresh due = dllm_refresh(c.settings, t);
    if (c.k.empty())
        for (size_t li = 0; li < layers_.size(); ++li) {
            c.k.push_back(Tensor::f32({T, KV}));
            c.v.push_back(Tensor::f32({T, KV}));
            c.att.push_back(Tensor::f32({T, H}));
            c.mlp.push_back(Tensor::f32({T, H}));
        }
    c.transfers.assign(layers_.size(), {});
    // Between answer refreshes some answer rows are chosen by similarity: every answer row is projected.
    const bool transfer = !due.answer && c.settings.transfer_ratio > 0;
    std::vector<int64_t> base;  // the refreshed parts' rows
    if (due.prompt) base = range(0, P);
    if (due.answer) base = range(due.prompt ? 0 : P, T);
    std::vector<int64_t> projected = base;
    if (transfer)
        for (int64_t r = P; r < T; ++r) projected.push_back(r);

    const RopeTable rope = rope_table(positions, D, cfg_.rope_theta, cfg_.mrope_section);
    Tensor x = embeddings.clone();
    Tensor in = Tensor::f32({T, H}), qkv = Tensor::f32({T, QKV}), keys = Tensor::f32({T, KV});
    Tensor q = Tensor::f32({T, nq * D}), attn = Tensor::f32({T, nq * D}), out = Tensor::f32({T, H});
    Tensor gate_up = Tensor::f32({T, 2 * int64_t(cfg_.intermediate_size)}), act = Tensor::f32({T, cfg_.intermediate_size});
    for (size_t li = 0; li < layers_.size(); ++li) {
        const Layer& l = layers_[li];
        const int64_t np = int64_t(projected.size());
        if (np > 0) {
            gather_rows(x.data<float>(), projected, H, in.data<float>());
            l.qkv.forward(in.data<float>(), np, qkv.data<float>(), RowNorm{l.input_norm.data<float>(), eps});
        }
        // rows[i] is projected row slot[i]: the base rows first, then the chosen answer rows.
        std::vector<int64_t> rows = base, slot = range(0, int64_t(base.size()));
        if (transfer) {
            const int64_t first = int64_t(base.size());  // the answer rows' projections follow the base's
            c.transfers[li] = least_similar_rows(qkv.row(first) + (nq + nkv) * D, QKV, c.v[li].row(P), KV, A, KV,
                                                 c.settings.transfer_ratio);
            for (int64_t j : c.transfers[li]) {
                rows.push_back(P + j);
                slot.push_back(first + j);
            }
        }
        const int64_t n = int64_t(rows.size());
        c.rows_run += n;
#pragma omp parallel for if (n * QKV > (1 << 16))
        for (int64_t i = 0; i < n; ++i) {  // fresh keys/values (before RoPE) into the cache, rotated queries
            const float* row = qkv.row(slot[size_t(i)]);
            std::memcpy(c.k[li].row(rows[size_t(i)]), row + nq * D, size_t(KV) * sizeof(float));
            std::memcpy(c.v[li].row(rows[size_t(i)]), row + (nq + nkv) * D, size_t(KV) * sizeof(float));
            std::memcpy(q.row(i), row, size_t(nq * D) * sizeof(float));
            apply_rotary(q.row(i), nq, D, D, rope.cos_row(rows[size_t(i)]), rope.sin_row(rows[size_t(i)]));
        }
        if (n > 0) {
            std::memcpy(keys.data<float>(), c.k[li].data<float>(), size_t(T * KV) * sizeof(float));
#pragma omp parallel for if (T * KV > (1 << 16))
            for (int64_t r = 0; r < T; ++r) apply_rotary(keys.row(r), nkv, D, D, rope.cos_row(r), rope.sin_row(r));
            const AttentionShape shape{n, T, nq, nkv, D, nq * D, KV, KV, nq * D};
            attention(q.data<float>(), keys.data<float>(), c.v[li].data<float>(), attn.data<float>(), shape);
            l.o.forward(attn.data<float>(), n, out.data<float>());
            scatter_rows(out.data<float>(), rows, H, c.att[li].data<float>());
        }
        add_inplace(x.data<float>(), c.att[li].data<float>(), T * H);
        if (n > 0) {
            gather_rows(x.data<float>(), rows, H, in.data<float>());
            l.gate_up.forward(in.data<float>(), n, gate_up.data<float>(), RowNorm{l.post_norm.data<float>(), eps});
            silu_mul_rows(gate_up.data<float>(), n, cfg_.intermediate_size, act.data<float>());
            l.down.forward(act.data<float>(), n, out.data<float>());
            scatter_rows(out.data<float>(), rows, H, c.mlp[li].data<float>());
        }
        add_inplace(x.data<float>(), c.mlp[li].data<float>(), T * H);
    }
    c.forwards = t;
    rms_norm(x.data<float>(), final_norm_.data<float>(), x.data<float>(), T, H, eps);
    return x;
}

}  // namespace dimple
