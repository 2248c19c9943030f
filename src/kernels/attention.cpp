#include "kernels/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ops.h"

namespace dimple {

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask) {
    const int64_t group = s.q_heads / s.kv_heads;
    const float scale = 1.0f / std::sqrt(float(s.head_dim));
    const int64_t D = s.head_dim;
    const bool masked = mask.key_valid != nullptr;

#pragma omp parallel if (s.q_heads * s.q_len * s.kv_len * s.head_dim > (1 << 18))
    {
        std::vector<float> scores(static_cast<size_t>(s.kv_len));
        std::vector<float> acc(static_cast<size_t>(D));
#pragma omp for collapse(2) schedule(static)
        for (int64_t h = 0; h < s.q_heads; ++h) {
            for (int64_t i = 0; i < s.q_len; ++i) {
                const int64_t kh = h / group;
                const float* qi = q + i * s.q_stride + h * D;
                const bool q_ok = !masked || mask.query_valid[i];
                const int64_t self = masked ? mask.self_key[i] : -1;
                constexpr float kMasked = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j < s.kv_len; ++j) {
                    if (masked && !(j == self || (q_ok && mask.key_valid[j]))) {
                        scores[size_t(j)] = kMasked;
                        continue;
                    }
                    const float* kj = k + j * s.k_stride + kh * D;
                    float dot = 0.f;
                    for (int64_t c = 0; c < D; ++c) dot += qi[c] * kj[c];
                    scores[size_t(j)] = dot * scale;
                }
                softmax(scores.data(), s.kv_len);
                std::fill(acc.begin(), acc.end(), 0.f);
                for (int64_t j = 0; j < s.kv_len; ++j) {
                    const float p = scores[size_t(j)];
                    if (p == 0.f) continue;
                    const float* vj = v + j * s.v_stride + kh * D;
                    for (int64_t c = 0; c < D; ++c) acc[size_t(c)] += p * vj[c];
                }
                float* oi = out + i * s.out_stride + h * D;
                for (int64_t c = 0; c < D; ++c) oi[c] = acc[size_t(c)];
            }
        }
    }
}

}  // namespace dimple
