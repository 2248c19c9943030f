#include "model/language_model.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/stacked_linear.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "model/parameters.h"

namespace dimple {

namespace {

Linear load_linear(const Checkpoint& ck, const std::string& name, Shape shape, bool bias, Compute c) {
    return load_linear(ck, std::vector<std::string>{name}, std::vector<Shape>{std::move(shape)}, bias, c);
}

// The rows of a forward call that attend together: `len` query rows from `row`, whose keys are
// `past` cached ones (row `cache_row` of `cache`) then their own, laid out from `key_row` of the
// call's key buffer; the first `keep` of their keys/values go to row `keep_row` of `keep_into`.
struct Segment {
    int64_t row = 0, len = 0, past = 0;
    const KvCache* cache = nullptr;
    int64_t cache_row = 0, key_row = 0;
    int64_t keep = 0;
    KvCache* keep_into = nullptr;
    int64_t keep_row = 0;
    VisualPruning* prune = nullptr;
    bool rows_removed = false;  // the pruned rows of this call left the later layers' rows
    ImageAttention* image_attention = nullptr;
};

// Equal-length rows share one cache and one keep target; packed sequences each have their own.
std::vector<Segment> segments_of(const ForwardInput& in) {
    std::vector<Segment> segs;
    int64_t keys = 0;
    if (in.packed.empty()) {
        const int64_t past = in.past ? in.past->len : 0;
        for (int64_t b = 0; b < in.batch; ++b) {
            segs.push_back({b * in.len, in.len, past, in.past, b, keys, in.keep, in.keep_into, b});
            keys += past + in.len;
        }
        return segs;
    }
    check(in.batch == 1 && !in.past && !in.keep_into && in.valid.empty(),
          "forward: packed sequences take their caches from the sequences");
    int64_t row = 0;
    for (const PackedSequence& p : in.packed) {
        const int64_t past = p.past ? p.past->len : 0;
        check(p.len >= 1 && p.keep <= p.len && (!p.past || p.past->batch == 1), "forward: bad packed sequence");
        check(!p.prune || (p.prune->layer >= 0 && p.prune->query_rows.size() > 0), "forward: bad visual pruning");
        check(!p.prune || !p.image_attention, "forward: image attention is measured without pruning");
        segs.push_back({row, p.len, past, p.past, 0, keys, p.keep, p.keep_into, 0, p.prune, false, p.image_attention});
        row += p.len;
        keys += past + p.len;
    }
    check(row == in.len, "forward: packed sequences hold ", row, " rows, not ", in.len);
    return segs;
}

// The study's measure at layer `layer`: the attention mass the query rows give the image keys.
void measure_image_attention(ImageAttention& a, size_t layer, const Tensor& qkv, const float* keys, int64_t n_keys,
                             int64_t row, const AttentionHeads& heads) {
    std::vector<int64_t> rows;
    for (int64_t i : a.query_rows) rows.push_back(row + i);
    if (rows.empty() || layer >= a.share.size()) return;
    const std::vector<double> got = attention_received(qkv.data<float>(), rows, keys, n_keys, heads, a.candidates);
    double total = 0;
    for (double g : got) total += g;
    a.share[layer] = float(total / double(rows.size() * size_t(heads.q_heads)));
}

// The keys of a later layer that a pruned segment still sees (`past` cached ones, then its rows).
struct PrunedKeys {
    std::vector<uint8_t> key_valid, query_valid;
    std::vector<int64_t> self_key;
};

PrunedKeys pruned_keys(const VisualPruning& p, int64_t past_at_prune, int64_t past, int64_t len, bool rows_removed) {
    PrunedKeys m{std::vector<uint8_t>(size_t(past + len), 1), std::vector<uint8_t>(size_t(len), 1), {}};
    for (int64_t i = 0; i < len; ++i) m.self_key.push_back(past + i);
    for (int64_t c : p.dropped) {
        if (rows_removed && c >= past_at_prune) continue;  // no longer among the rows
        const int64_t at = c >= past_at_prune ? past + c - past_at_prune
                           : p.later_index.empty() ? c : p.later_index[size_t(c)];
        if (at >= 0) m.key_valid[size_t(at)] = 0;
    }
    return m;
}

// This call's rows of each segment that its pruning (at `layer`) dropped, as row indices of the call.
std::vector<int64_t> dropped_rows(const std::vector<Segment>& segs, size_t layer) {
    std::vector<int64_t> rows;
    for (const Segment& s : segs) {
        if (!s.prune || size_t(s.prune->layer) != layer) continue;
        const int64_t past_at_prune = s.cache ? s.cache->layer_len(layer) : 0;
        for (int64_t c : s.prune->dropped)
            if (c >= past_at_prune) rows.push_back(s.row + c - past_at_prune);
    }
    return rows;
}

// Takes `drop` (sorted rows of the call) out of the segments' layout: later layers compute only
// the rows still seen, which is where pruning saves time (FastV drops them the same way).
void remove_rows(std::vector<Segment>& segs, std::span<const int64_t> drop, size_t layer) {
    int64_t row = 0, keys = 0;
    for (Segment& s : segs) {
        const auto first = std::lower_bound(drop.begin(), drop.end(), s.row);
        const int64_t gone = std::lower_bound(drop.begin(), drop.end(), s.row + s.len) - first;
        const int64_t gone_kept = std::lower_bound(drop.begin(), drop.end(), s.row + s.keep) - first;
        if (s.prune && size_t(s.prune->layer) == layer) s.rows_removed = true;
        s.row = row;
        s.len -= gone;
        s.keep -= gone_kept;
        s.key_row = keys;
        row += s.len;
        keys += (s.cache ? s.cache->len : 0) + s.len;
    }
}

}  // namespace

LanguageModel::LanguageModel(const Checkpoint& ck, const ModelConfig& cfg, Compute compute)
    : cfg_(cfg), compute_(compute) {
    const int64_t H = cfg.hidden_size, I = cfg.intermediate_size, D = cfg.head_dim();
    const int64_t q = int64_t(cfg.num_heads) * D, kv = int64_t(cfg.num_kv_heads) * D;
    const LmTensorNames names = lm_tensor_names(cfg);
    embed_tokens_ = ck.get(names.embed + ".weight", {cfg.vocab_size, H});
    for (int i = 0; i < cfg.num_layers; ++i) {
        const LayerTensorNames n = names.layer(i);
        Layer l;
        l.input_norm = ck.get(n.attn_norm + ".weight", {H}).to_f32();
        l.post_norm = ck.get(n.ffn_norm + ".weight", {H}).to_f32();
        l.qkv = load_linear(ck, {n.q, n.k, n.v}, {{q, H}, {kv, H}, {kv, H}}, cfg.qkv_bias, compute);
        l.o = load_linear(ck, n.o, {H, q}, false, compute);
        l.gate_up = load_linear(ck, {n.gate, n.up}, {{I, H}, {I, H}}, false, compute);
        l.down = load_linear(ck, n.down, {H, I}, false, compute);
        layers_.push_back(std::move(l));
    }
    final_norm_ = ck.get(names.final_norm + ".weight", {H}).to_f32();
    lm_head_ = load_linear(ck, names.head, {cfg.vocab_size, H}, false, compute);
}

size_t LanguageModel::weight_bytes() const {
    size_t total = lm_head_.weight_bytes();
    for (const Layer& l : layers_)
        for (const Linear* lin : {&l.qkv, &l.o, &l.gate_up, &l.down})
            total += lin->weight_bytes();
    return total;
}

Tensor LanguageModel::embed(std::span<const int64_t> ids) const {
    const int64_t H = cfg_.hidden_size;
    Tensor out = Tensor::f32({int64_t(ids.size()), H});
    const size_t row_bytes = size_t(H) * dtype_size(embed_tokens_.dtype());
    for (size_t i = 0; i < ids.size(); ++i) {
        check(ids[i] >= 0 && ids[i] < cfg_.vocab_size, "token id ", ids[i],
              " is outside the vocabulary (", cfg_.vocab_size, ")");
        const char* src = static_cast<const char*>(embed_tokens_.raw()) + size_t(ids[i]) * row_bytes;
        convert_to_f32(embed_tokens_.dtype(), src, out.row(int64_t(i)), size_t(H));
    }
    return out;
}

Tensor LanguageModel::forward(const ForwardInput& in) const {
    const int64_t B = in.batch, L = in.len, N = B * L;
    const int64_t H = cfg_.hidden_size, D = cfg_.head_dim();
    const int64_t nq = cfg_.num_heads, nkv = cfg_.num_kv_heads;
    const int64_t past = in.past ? in.past->len : 0, T = past + L;  // keys per row
    const float eps = float(cfg_.rms_norm_eps);
    check(in.embeddings.dim(0) == N && in.embeddings.dim(1) == H && int64_t(in.positions.size()) == N,
          "forward: inputs do not match batch ", B, " x length ", L);
    check(!in.past || in.past->batch == B, "forward: cache batch ", in.past ? in.past->batch : 0,
          " differs from input batch ", B);
    check(in.keep <= L, "forward: cannot keep more tokens than it runs");

    RopeTable rope = rope_table(in.positions, D, cfg_.rope_theta, cfg_.mrope_section);

    // Visibility per row: the cached tokens' and this call's padding; every query sees itself.
    const bool any_padding =
        (in.past && std::find(in.past->valid.begin(), in.past->valid.end(), 0) != in.past->valid.end()) ||
        std::find(in.valid.begin(), in.valid.end(), 0) != in.valid.end();
    std::vector<uint8_t> key_valid, query_valid;
    std::vector<int64_t> self_key(static_cast<size_t>(L));
    for (int64_t i = 0; i < L; ++i) self_key[size_t(i)] = past + i;
    if (any_padding) {
        key_valid.assign(size_t(B * T), 1);
        query_valid.assign(size_t(N), 1);
        for (int64_t b = 0; b < B; ++b) {
            for (int64_t j = 0; j < past; ++j) key_valid[size_t(b * T + j)] = in.past->valid[size_t(b * past + j)];
            for (int64_t i = 0; i < L; ++i) {
                const uint8_t ok = in.valid.empty() ? 1 : in.valid[size_t(b * L + i)];
                key_valid[size_t(b * T + past + i)] = ok;
                query_valid[size_t(b * L + i)] = ok;
            }
        }
    }
    std::vector<Segment> segs = segments_of(in);
    const bool fills_cache = in.keep_into || std::any_of(segs.begin(), segs.end(), [](const Segment& s) { return s.keep_into; });
    if (in.keep_into) {
        *in.keep_into = KvCache{B, in.keep, {}, {}, {}};
        in.keep_into->valid.assign(size_t(B * in.keep), 1);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < in.keep; ++i)
                in.keep_into->valid[size_t(b * in.keep + i)] = in.valid.empty() ? 1 : in.valid[size_t(b * L + i)];
    }
    for (const PackedSequence& p : in.packed)
        if (p.keep_into) *p.keep_into = KvCache{1, p.keep, {}, {}, std::vector<uint8_t>(size_t(p.keep), 1)};
    // Rows still computed (pruning removes some): their rows in the call, and every row's latest state.
    int64_t n = N;
    std::vector<int64_t> row_of;
    Tensor all_rows;

    Tensor x = in.embeddings.clone();
    // The hidden states of every row of the call: the pruned ones as they left the computation.
    auto every_row = [&]() {
        if (row_of.empty()) return x.clone();
        Tensor full = all_rows.clone();
        for (int64_t r = 0; r < n; ++r) std::memcpy(full.row(row_of[size_t(r)]), x.row(r), size_t(H) * sizeof(float));
        return full;
    };
    if (in.trace) in.trace->push_back(x.clone());
    const int64_t QKV = (nq + 2 * nkv) * D;  // a row of the stacked product: [q | k | v]
    Tensor qkv = Tensor::f32({N, QKV});
    Tensor h = Tensor::f32({N, H});
    Tensor attn_out = Tensor::f32({N, nq * D});
    const int64_t key_rows = segs.empty() ? 0 : segs.back().key_row + segs.back().past + segs.back().len;
    Tensor keys = Tensor::f32({key_rows, nkv * D}), values = Tensor::f32({key_rows, nkv * D});
    Tensor act = Tensor::f32({N, cfg_.intermediate_size});
    Tensor gate_up = Tensor::f32({N, 2 * int64_t(cfg_.intermediate_size)});

    // This call's keys and values of `n` rows from row `r`, into contiguous rows at dst_k / dst_v.
    auto copy_kv = [&](float* dst_k, float* dst_v, int64_t r, int64_t count) {
        const size_t bytes = size_t(nkv * D) * sizeof(float);
        for (int64_t i = 0; i < count; ++i) {
            std::memcpy(dst_k + i * nkv * D, qkv.row(r + i) + nq * D, bytes);
            std::memcpy(dst_v + i * nkv * D, qkv.row(r + i) + (nq + nkv) * D, bytes);
        }
    };

    check(in.skip_layers.empty() || (in.skip_layers.size() == layers_.size() && !fills_cache),
          "forward: a call that fills a cache runs every layer");
    for (size_t li = 0; li < layers_.size(); ++li) {
        const Layer& l = layers_[li];
        if (!in.skip_layers.empty() && in.skip_layers[li]) {
            if (in.trace && li + 1 < layers_.size()) in.trace->push_back(every_row());
            continue;
        }
        l.qkv.forward(x.data<float>(), n, qkv.data<float>(), RowNorm{l.input_norm.data<float>(), eps});
#pragma omp parallel for if (n * H > (1 << 16))
        for (int64_t r = 0; r < n; ++r) {
            apply_rotary(qkv.row(r), nq, D, D, rope.cos_row(r), rope.sin_row(r));
            apply_rotary(qkv.row(r) + nq * D, nkv, D, D, rope.cos_row(r), rope.sin_row(r));
        }
        // Keys/values of each segment: the cached ones (as many as this layer holds), then this call's.
        const size_t kv_row = size_t(nkv * D) * sizeof(float);
        auto add_layer = [&](KvCache* c, int64_t rows) {
            c->k.push_back(Tensor::f32({c->batch, rows, nkv * D}));
            c->v.push_back(Tensor::f32({c->batch, rows, nkv * D}));
        };
        if (in.keep_into) add_layer(in.keep_into, in.keep_into->len);
        for (const Segment& s : segs)
            if (s.keep_into && !in.keep_into) add_layer(s.keep_into, s.keep);
        for (const Segment& s : segs) {
            const int64_t pl = s.cache ? s.cache->layer_len(li) : 0;
            if (pl > 0) {
                std::memcpy(keys.row(s.key_row), s.cache->k[li].row(s.cache_row * pl), size_t(pl) * kv_row);
                std::memcpy(values.row(s.key_row), s.cache->v[li].row(s.cache_row * pl), size_t(pl) * kv_row);
            }
            copy_kv(keys.row(s.key_row + pl), values.row(s.key_row + pl), s.row, s.len);
            if (s.keep_into)
                copy_kv(s.keep_into->k[li].row(s.keep_row * s.keep), s.keep_into->v[li].row(s.keep_row * s.keep),
                        s.row, s.keep);
        }
        for (size_t b = 0; b < segs.size(); ++b) {
            const Segment& s = segs[b];
            const int64_t pl = s.cache ? s.cache->layer_len(li) : 0;
            const AttentionShape shape{s.len, pl + s.len, nq, nkv, D, QKV, nkv * D, nkv * D, nq * D};
            AttentionMask mask;
            if (any_padding) mask = {key_valid.data() + b * T, query_valid.data() + b * L, self_key.data()};
            PrunedKeys pruned;
            if (s.prune && int(li) == s.prune->layer) {
                const AttentionHeads heads{nq, nkv, D, QKV, nkv * D};
                std::vector<int64_t> rows;
                for (int64_t i : s.prune->query_rows) rows.push_back(s.row + i);
                const std::vector<double> score =
                    attention_received(qkv.data<float>(), rows, keys.row(s.key_row), pl + s.len, heads, s.prune->candidates);
                s.prune->dropped = least_attended(s.prune->candidates, score, s.prune->keep);
            } else if (s.prune && int(li) > s.prune->layer && !s.prune->dropped.empty()) {
                const int64_t past_at_prune = s.cache ? s.cache->layer_len(size_t(s.prune->layer)) : 0;
                pruned = pruned_keys(*s.prune, past_at_prune, pl, s.len, s.rows_removed);
                mask = {pruned.key_valid.data(), pruned.query_valid.data(), pruned.self_key.data()};
            }
            if (s.image_attention) measure_image_attention(*s.image_attention, li, qkv, keys.row(s.key_row), pl + s.len, s.row,
                                                           {nq, nkv, D, QKV, nkv * D});
            attention(qkv.row(s.row), keys.row(s.key_row), values.row(s.key_row), attn_out.row(s.row), shape, mask);
        }
        l.o.forward(attn_out.data<float>(), n, h.data<float>());
        add_inplace(x.data<float>(), h.data<float>(), n * H);

        l.gate_up.forward(x.data<float>(), n, gate_up.data<float>(), RowNorm{l.post_norm.data<float>(), eps});
        silu_mul_rows(gate_up.data<float>(), n, cfg_.intermediate_size, act.data<float>());
        l.down.forward(act.data<float>(), n, h.data<float>());
        add_inplace(x.data<float>(), h.data<float>(), n * H);

        // Rows pruned at this layer leave the computation (their keys were the ones dropped).
        const std::vector<int64_t> drop = in.prune_by_mask ? std::vector<int64_t>{} : dropped_rows(segs, li);
        if (!drop.empty()) {
            if (row_of.empty()) {
                for (int64_t r = 0; r < N; ++r) row_of.push_back(r);
                all_rows = Tensor::f32({N, H});
            }
            std::vector<int64_t> kept;
            std::vector<std::array<int64_t, 3>> kept_positions;
            for (int64_t r = 0, d = 0; r < n; ++r) {
                if (d < int64_t(drop.size()) && drop[size_t(d)] == r) {
                    std::memcpy(all_rows.row(row_of[size_t(r)]), x.row(r), size_t(H) * sizeof(float));
                    ++d;
                    continue;
                }
                if (int64_t(kept.size()) != r) std::memcpy(x.row(int64_t(kept.size())), x.row(r), size_t(H) * sizeof(float));
                kept.push_back(row_of[size_t(r)]);
                kept_positions.push_back(in.positions[size_t(kept.back())]);
            }
            row_of = std::move(kept);
            n = int64_t(row_of.size());
            rope = rope_table(kept_positions, D, cfg_.rope_theta, cfg_.mrope_section);
            remove_rows(segs, drop, li);
        }
        if (in.trace && li + 1 < layers_.size()) in.trace->push_back(every_row());
    }
    // A cache filled by a pruning call keeps, after the pruning layer, only the keys still seen
    // (already so where the rows left the computation).
    for (const Segment& s : segs) {
        if (!s.prune || !s.keep_into || s.prune->dropped.empty() || s.rows_removed) continue;
        const int64_t past_at_prune = s.cache ? s.cache->layer_len(size_t(s.prune->layer)) : 0;
        std::vector<int64_t> own;
        for (int64_t c : s.prune->dropped)
            if (c >= past_at_prune && c - past_at_prune < s.keep) own.push_back(c - past_at_prune);
        drop_rows(*s.keep_into, size_t(s.prune->layer) + 1, own);
    }
    x = every_row();
    rms_norm(x.data<float>(), final_norm_.data<float>(), x.data<float>(), N, H, eps);
    if (in.trace) in.trace->push_back(x.clone());
    return x;
}

Tensor LanguageModel::logits(const Tensor& hidden, std::span<const int64_t> rows) const {
    const int64_t H = cfg_.hidden_size;
    Tensor picked = Tensor::f32({int64_t(rows.size()), H});
    for (size_t i = 0; i < rows.size(); ++i) {
        check(rows[i] >= 0 && rows[i] < hidden.dim(0), "logits: row ", rows[i], " out of range");
        std::memcpy(picked.row(int64_t(i)), hidden.row(rows[i]), size_t(H) * sizeof(float));
    }
    return lm_head_.forward(picked);
}

}  // namespace dimple
