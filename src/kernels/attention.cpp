#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/fast_exp.h"

namespace dimple {

// Flash-style attention (Dao et al., "FlashAttention", 2022) on the CPU: each task takes one head
// and a block of kQueryRows queries through the keys in blocks of kKeyCols, keeping the block's
// scores, the running row maxima and sums, and the output rows in a per-thread workspace of about
// 100 KB (L2-resident), with the softmax computed online. Nothing of size q_len x kv_len is ever
// held, tasks run in parallel over heads and query blocks, and one call costs one OpenMP region
// rather than two library products per head (the vision tower's windows are 64 queries wide).
// Written by hand because oneDNN's CPU matmul has no fused attention and per-tile library calls
// cost more than a 32x64 tile's arithmetic.
//
// This file is compiled with fp contraction (a*b+c as one fma): its sums are not part of any
// bit-exact path, and the fma is what makes the tile products fast.

namespace {

constexpr int64_t kQueryRows = 64;  // queries per task
constexpr int64_t kKeyCols = 64;    // keys per block
constexpr int64_t kLanes = 16;      // floats per vector below (one AVX-512 register, two AVX2 ones)
// Query rows a micro-kernel updates together: 8 rows x 2 vectors of scores, 8 rows x 1 vector of
// output, enough independent fma chains to hide the fma latency on two pipes.
constexpr int64_t kRowGroup = 8;

using vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline vec load(const float* p) {
    vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }

// The per-thread workspace of one task; head_dim padded to a multiple of kLanes with zeros.
struct Workspace {
    int64_t dp = 0;
    std::vector<float> q, kt, v, s, o, row_max, row_sum;
    void reserve(int64_t padded_dim) {
        dp = padded_dim;
        q.assign(size_t(kQueryRows * dp), 0.f);
        kt.assign(size_t(dp * kKeyCols), 0.f);
        v.assign(size_t(kKeyCols * dp), 0.f);
        s.assign(size_t(kQueryRows * kKeyCols), 0.f);
        o.assign(size_t(kQueryRows * dp), 0.f);
        row_max.assign(size_t(kQueryRows), 0.f);
        row_sum.assign(size_t(kQueryRows), 0.f);
    }
};

// s[i, :] = q[i, :] . kt[:, :] for the block's kQueryRows x kKeyCols scores.
void tile_scores(Workspace& w) {
    for (int64_t i = 0; i < kQueryRows; i += kRowGroup)
        for (int64_t j = 0; j < kKeyCols; j += 2 * kLanes) {
            vec acc[kRowGroup][2] = {};
            for (int64_t d = 0; d < w.dp; ++d) {
                const vec k0 = load(&w.kt[size_t(d * kKeyCols + j)]);
                const vec k1 = load(&w.kt[size_t(d * kKeyCols + j + kLanes)]);
                for (int64_t r = 0; r < kRowGroup; ++r) {
                    const float qd = w.q[size_t((i + r) * w.dp + d)];
                    acc[r][0] += qd * k0;
                    acc[r][1] += qd * k1;
                }
            }
            for (int64_t r = 0; r < kRowGroup; ++r) {
                store(&w.s[size_t((i + r) * kKeyCols + j)], acc[r][0]);
                store(&w.s[size_t((i + r) * kKeyCols + j + kLanes)], acc[r][1]);
            }
        }
}

// o[i, :] += s[i, :] . v[:, :] (s holds the block's probabilities by now).
void tile_mix(Workspace& w) {
    for (int64_t i = 0; i < kQueryRows; i += kRowGroup)
        for (int64_t c = 0; c < w.dp; c += kLanes) {
            vec acc[kRowGroup];
            for (int64_t r = 0; r < kRowGroup; ++r) acc[r] = load(&w.o[size_t((i + r) * w.dp + c)]);
            for (int64_t j = 0; j < kKeyCols; ++j) {
                const vec vj = load(&w.v[size_t(j * w.dp + c)]);
                for (int64_t r = 0; r < kRowGroup; ++r) acc[r] += w.s[size_t((i + r) * kKeyCols + j)] * vj;
            }
            for (int64_t r = 0; r < kRowGroup; ++r) store(&w.o[size_t((i + r) * w.dp + c)], acc[r]);
        }
}

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// The online softmax over one block: rescale what the rows held for a new maximum, turn the block's
// scores into unnormalised probabilities. A row whose keys so far are all masked keeps max -inf.
void online_softmax(Workspace& w, int64_t rows) {
    for (int64_t i = 0; i < rows; ++i) {
        float* s = &w.s[size_t(i * kKeyCols)];
        float mx = w.row_max[size_t(i)];
#pragma omp simd reduction(max : mx)
        for (int64_t j = 0; j < kKeyCols; ++j) mx = std::max(mx, s[j]);
        if (mx == kMasked) {
            std::fill(s, s + kKeyCols, 0.f);
            continue;
        }
        const float correction = fast_exp(w.row_max[size_t(i)] - mx);  // exp(-inf) = 0 on the first block
        float sum = 0.f;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < kKeyCols; ++j) sum += (s[j] = fast_exp(s[j] - mx));
        w.row_sum[size_t(i)] = w.row_sum[size_t(i)] * correction + sum;
        w.row_max[size_t(i)] = mx;
        float* o = &w.o[size_t(i * w.dp)];
        for (int64_t c = 0; c < w.dp; ++c) o[c] *= correction;
    }
}

// One task: query rows [i0, i0 + rows) of query head h.
void attend_block(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
                  const AttentionMask& mask, int64_t h, int64_t i0, int64_t rows, Workspace& w) {
    const int64_t D = s.head_dim, kh = h / (s.q_heads / s.kv_heads);
    const float scale = 1.0f / std::sqrt(float(D));
    std::fill(w.q.begin(), w.q.end(), 0.f);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < D; ++c) w.q[size_t(i * w.dp + c)] = q[(i0 + i) * s.q_stride + h * D + c] * scale;
    std::fill(w.o.begin(), w.o.end(), 0.f);
    std::fill(w.row_max.begin(), w.row_max.end(), kMasked);
    std::fill(w.row_sum.begin(), w.row_sum.end(), 0.f);

    for (int64_t j0 = 0; j0 < s.kv_len; j0 += kKeyCols) {
        const int64_t cols = std::min(kKeyCols, s.kv_len - j0);
        if (cols < kKeyCols) {  // the last, short block: zero keys and values beyond it
            std::fill(w.kt.begin(), w.kt.end(), 0.f);
            std::fill(w.v.begin(), w.v.end(), 0.f);
        }
        for (int64_t j = 0; j < cols; ++j) {
            const float* kr = k + (j0 + j) * s.k_stride + kh * D;
            const float* vr = v + (j0 + j) * s.v_stride + kh * D;
            for (int64_t c = 0; c < D; ++c) w.kt[size_t(c * kKeyCols + j)] = kr[c];
            std::memcpy(&w.v[size_t(j * w.dp)], vr, size_t(D) * sizeof(float));
        }
        tile_scores(w);
        for (int64_t i = 0; i < kQueryRows; ++i) {
            float* sr = &w.s[size_t(i * kKeyCols)];
            if (i >= rows) {  // a padding row of the last query block: nothing to mix
                std::fill(sr, sr + kKeyCols, 0.f);
                continue;
            }
            std::fill(sr + cols, sr + kKeyCols, kMasked);
            if (!mask.key_valid) continue;
            const int64_t qi = i0 + i;
            const bool q_ok = mask.query_valid[qi];
            for (int64_t j = 0; j < cols; ++j)
                if (j0 + j != mask.self_key[qi] && !(q_ok && mask.key_valid[j0 + j])) sr[j] = kMasked;
        }
        online_softmax(w, rows);
        tile_mix(w);
    }
    for (int64_t i = 0; i < rows; ++i) {
        const float inv = 1.0f / w.row_sum[size_t(i)];  // > 0: every query sees at least its own key
        float* o = out + (i0 + i) * s.out_stride + h * D;
        for (int64_t c = 0; c < D; ++c) o[c] = w.o[size_t(i * w.dp + c)] * inv;
    }
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask) {
    const int64_t blocks = (s.q_len + kQueryRows - 1) / kQueryRows, tasks = s.q_heads * blocks;
    const int64_t padded_dim = (s.head_dim + kLanes - 1) / kLanes * kLanes;
    // Small calls (a few tiles) are not worth waking the thread team for.
    const bool parallel = tasks > 1 && s.q_len * s.kv_len * s.head_dim * s.q_heads > (1 << 18);
#pragma omp parallel if (parallel)
    {
        thread_local Workspace w;
        if (w.dp != padded_dim) w.reserve(padded_dim);
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < tasks; ++t) {
            const int64_t h = t / blocks, i0 = (t % blocks) * kQueryRows;
            attend_block(q, k, v, out, s, mask, h, i0, std::min(kQueryRows, s.q_len - i0), w);
        }
    }
}

}  // namespace dimple
