#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/isa.h"
#include "core/tensor.h"
#include "kernels/fast_exp.h"

DIMPLE_ISA_BEGIN
namespace dimple::DIMPLE_ISA {

// Flash-style attention (Dao et al., "FlashAttention", 2022) on the CPU: each task takes one head
// and a block of kQueryRows queries through the keys in blocks of kKeyCols, keeping the block's
// scores, the running row maxima and sums, and the output rows in a per-thread workspace of about
// 112 KB at head_dim 128 (L2-resident), with the softmax computed online. Nothing of size
// q_len x kv_len is held, tasks run in parallel over heads and query blocks, and one call costs one
// OpenMP region rather than two library products per head: the vision tower's 64-token windows
// gain most (BENCHMARKS.md). Written by hand because oneDNN's CPU matmul has no fused attention
// and a library call per 64x64 tile costs more than the tile's arithmetic.
//
// This file is compiled with fp contraction (a*b+c as one fma): its sums are not part of any
// bit-exact path, and the fma is what makes the tile products fast. It is compiled once per
// instruction set (core/isa.h): the AVX-512 copy runs 16-lane vectors, the AVX2 one 8.

namespace {

constexpr int64_t kQueryRows = 64;  // queries per task
constexpr int64_t kKeyCols = 64;    // keys per block
// The micro-kernels below keep ROWS x VECS accumulators, VECS loaded vectors and a broadcast in
// registers: 4 x 4 (or 4 x 5) of AVX-512's 32, 2 x 4 of AVX2's (or SSE's) 16. Enough independent
// fma chains to hide the fma latency, and each loaded vector serves ROWS fmas.
#if DIMPLE_ISA_VECTOR_BYTES == 64
constexpr int64_t kLanes = 16, kTileRows = 4, kMaxVecs = 5;
#elif DIMPLE_ISA_VECTOR_BYTES == 32
constexpr int64_t kLanes = 8, kTileRows = 2, kMaxVecs = 4;
#else
constexpr int64_t kLanes = 4, kTileRows = 2, kMaxVecs = 4;
#endif
constexpr int64_t kScoreVecs = 4;

using vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline vec load(const float* p) {
    vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }
// Keeps v in a register: GCC would otherwise fold its load into every fma that reads it, one load
// per fma, and the micro-kernels would wait on loads (measured 30% slower).
inline void pin(vec& v) {
#if defined(__x86_64__)
    asm("" : "+v"(v));
#endif
}

// The per-thread workspace of one task; head_dim padded to a multiple of kLanes with zeros.
struct Workspace {
    int64_t dp = 0;
    std::vector<float> q, v, s, o, row_max, row_sum;
    void reserve(int64_t padded_dim) {
        dp = padded_dim;
        q.assign(size_t(kQueryRows * dp), 0.f);
        v.assign(size_t(kKeyCols * dp), 0.f);
        s.assign(size_t(kQueryRows * kKeyCols), 0.f);
        o.assign(size_t(kQueryRows * dp), 0.f);
        row_max.assign(size_t(kQueryRows), 0.f);
        row_sum.assign(size_t(kQueryRows), 0.f);
    }
};

// The keys of every kv head transposed once per call, block by block, [kv_heads][key blocks][dp]
// [kKeyCols], zero beyond kv_len and head_dim: the tasks of a kv head's query heads share them.
Tensor transposed_keys(const float* k, const AttentionShape& s, int64_t dp, int64_t key_blocks) {
    Tensor kt = Tensor::f32({s.kv_heads * key_blocks, dp * kKeyCols});
    const int64_t D = s.head_dim;
#pragma omp parallel for if (s.kv_len * s.kv_heads * D > (1 << 16))
    for (int64_t t = 0; t < s.kv_heads * key_blocks; ++t) {
        const int64_t kh = t / key_blocks, j0 = (t % key_blocks) * kKeyCols;
        float* block = kt.row(t);
        std::fill(block, block + dp * kKeyCols, 0.f);
        for (int64_t j = 0; j < std::min(kKeyCols, s.kv_len - j0); ++j) {
            const float* kr = k + (j0 + j) * s.k_stride + kh * D;
            for (int64_t c = 0; c < D; ++c) block[c * kKeyCols + j] = kr[c];
        }
    }
    return kt;
}

// s[i, j : j + 4 * kLanes] = q[i, :] . kt[:, j : j + 4 * kLanes] for kTileRows query rows from i.
void score_tile(Workspace& w, const float* kt, int64_t i, int64_t j) {
    vec acc[kTileRows][kScoreVecs] = {};
    for (int64_t d = 0; d < w.dp; ++d) {
        vec kd[kScoreVecs];
        for (int64_t n = 0; n < kScoreVecs; ++n) {
            kd[n] = load(kt + d * kKeyCols + j + n * kLanes);
            pin(kd[n]);
        }
        for (int64_t r = 0; r < kTileRows; ++r) {
            const float qd = w.q[size_t((i + r) * w.dp + d)];
            for (int64_t n = 0; n < kScoreVecs; ++n) acc[r][n] += qd * kd[n];
        }
    }
    for (int64_t r = 0; r < kTileRows; ++r)
        for (int64_t n = 0; n < kScoreVecs; ++n) store(&w.s[size_t((i + r) * kKeyCols + j + n * kLanes)], acc[r][n]);
}

// s = q . kt for the block's first `rows` (a multiple of kTileRows) x kKeyCols scores.
void tile_scores(Workspace& w, const float* kt, int64_t rows) {
    for (int64_t i = 0; i < rows; i += kTileRows)
        for (int64_t j = 0; j < kKeyCols; j += kScoreVecs * kLanes) score_tile(w, kt, i, j);
}

// o[i, c : c + NV * kLanes] += s[i, :] . v[:, c : c + NV * kLanes] for kTileRows query rows from i.
template <int NV>
void mix_tile(Workspace& w, const float* v, int64_t i, int64_t c) {
    vec acc[kTileRows][NV];
    for (int64_t r = 0; r < kTileRows; ++r)
        for (int64_t n = 0; n < NV; ++n) acc[r][n] = load(&w.o[size_t((i + r) * w.dp + c + n * kLanes)]);
    for (int64_t j = 0; j < kKeyCols; ++j) {
        vec vj[NV];
        for (int64_t n = 0; n < NV; ++n) {
            vj[n] = load(v + j * w.dp + c + n * kLanes);
            pin(vj[n]);
        }
        for (int64_t r = 0; r < kTileRows; ++r) {
            const float p = w.s[size_t((i + r) * kKeyCols + j)];
            for (int64_t n = 0; n < NV; ++n) acc[r][n] += p * vj[n];
        }
    }
    for (int64_t r = 0; r < kTileRows; ++r)
        for (int64_t n = 0; n < NV; ++n) store(&w.o[size_t((i + r) * w.dp + c + n * kLanes)], acc[r][n]);
}

// o += s . v (s holds the block's probabilities by now; v is the workspace's copy, rows dp apart),
// in column chunks of at most kMaxVecs vectors, for the first `rows` (a multiple of kTileRows).
void tile_mix(Workspace& w, const float* v, int64_t rows) {
    for (int64_t i = 0; i < rows; i += kTileRows)
        for (int64_t c = 0; c < w.dp;) {
            switch (std::min(kMaxVecs, (w.dp - c) / kLanes)) {
                case 5: mix_tile<5>(w, v, i, c), c += 5 * kLanes; break;
                case 4: mix_tile<4>(w, v, i, c), c += 4 * kLanes; break;
                case 3: mix_tile<3>(w, v, i, c), c += 3 * kLanes; break;
                case 2: mix_tile<2>(w, v, i, c), c += 2 * kLanes; break;
                default: mix_tile<1>(w, v, i, c), c += kLanes; break;
            }
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

// One task: query rows [i0, i0 + rows) of query head h; kt from transposed_keys.
void attend_block(const float* q, const float* kt, const float* v, float* out, const AttentionShape& s,
                  const AttentionMask& mask, int64_t h, int64_t i0, int64_t rows, Workspace& w) {
    const int64_t D = s.head_dim, kh = h / (s.q_heads / s.kv_heads);
    const float scale = 1.0f / std::sqrt(float(D));
    std::fill(w.q.begin(), w.q.end(), 0.f);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < D; ++c) w.q[size_t(i * w.dp + c)] = q[(i0 + i) * s.q_stride + h * D + c] * scale;
    std::fill(w.o.begin(), w.o.end(), 0.f);
    std::fill(w.row_max.begin(), w.row_max.end(), kMasked);
    std::fill(w.row_sum.begin(), w.row_sum.end(), 0.f);

    const int64_t key_blocks = (s.kv_len + kKeyCols - 1) / kKeyCols;
    // A short last query block (or a short window) computes only the tiles that hold its rows.
    const int64_t tile_rows = (rows + kTileRows - 1) / kTileRows * kTileRows;
    for (int64_t b = 0, j0 = 0; b < key_blocks; ++b, j0 += kKeyCols) {
        const int64_t cols = std::min(kKeyCols, s.kv_len - j0);
        // The block's value rows, copied next to each other (read in place, kv_heads * head_dim
        // apart, they collide in L1 sets: measured 7% slower), zero beyond kv_len and head_dim.
        if (cols < kKeyCols) std::fill(w.v.begin(), w.v.end(), 0.f);
        for (int64_t j = 0; j < cols; ++j)
            std::memcpy(&w.v[size_t(j * w.dp)], v + (j0 + j) * s.v_stride + kh * D, size_t(D) * sizeof(float));
        tile_scores(w, kt + (kh * key_blocks + b) * w.dp * kKeyCols, tile_rows);
        for (int64_t i = 0; i < tile_rows; ++i) {
            float* sr = &w.s[size_t(i * kKeyCols)];
            if (i >= rows) {  // a padding row of the last tile: nothing to mix
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
        tile_mix(w, w.v.data(), tile_rows);
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
    const Tensor kt = transposed_keys(k, s, padded_dim, (s.kv_len + kKeyCols - 1) / kKeyCols);
    // Small calls (a few tiles) are not worth waking the thread team for.
    const bool parallel = tasks > 1 && s.q_len * s.kv_len * s.head_dim * s.q_heads > (1 << 18);
#pragma omp parallel if (parallel)
    {
        thread_local Workspace w;
        if (w.dp != padded_dim) w.reserve(padded_dim);
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < tasks; ++t) {
            const int64_t h = t / blocks, i0 = (t % blocks) * kQueryRows;
            attend_block(q, kt.data<float>(), v, out, s, mask, h, i0, std::min(kQueryRows, s.q_len - i0), w);
        }
    }
}

}  // namespace dimple::DIMPLE_ISA
DIMPLE_ISA_END
