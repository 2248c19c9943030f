// Scaled dot-product attention, softmax(q k^T / sqrt(d)) v in f32, flash-style: blocks of queries
// of one head walk the keys block by block with an online softmax, so no [q_len, kv_len] score
// matrix is ever held (attention.cpp).
#pragma once

#include <cstdint>

namespace dimple {

struct AttentionShape {
    int64_t q_len = 0, kv_len = 0;
    int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
    // Floats between consecutive rows (tokens) of q, k, v and out; heads are contiguous in a row.
    int64_t q_stride = 0, k_stride = 0, v_stride = 0, out_stride = 0;
};

// Which keys a query may see. With no masks every query sees every key. Otherwise query i sees key
// j iff query_valid[i] && key_valid[j], and always its own key self_key[i] (so no row is empty:
// the padding rule of the original implementation).
struct AttentionMask {
    const uint8_t* key_valid = nullptr;    // [kv_len]
    const uint8_t* query_valid = nullptr;  // [q_len]
    const int64_t* self_key = nullptr;     // [q_len]: the key index of the query's own token
};

// Query heads share kv heads in groups of q_heads / kv_heads (GQA).
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               const AttentionMask& mask = {});

}  // namespace dimple
