// Cached keys/values (prefilling, spec section 8) and the row surgery the faster decoding options
// do on them: the dual cache joins the prompt's rows with the answer's, pruning drops image rows.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor.h"

namespace dimple {

// Keys/values of the first `len` positions of each of `batch` rows, per layer, rotary already
// applied. A layer may hold fewer rows than `len` (visual-token pruning dropped some); `valid`
// describes the unpruned layout and only caches without pruning may hold padding.
struct KvCache {
    int64_t batch = 0, len = 0;
    std::vector<Tensor> k, v;    // per layer [batch, rows of that layer, kv_heads * head_dim]
    std::vector<uint8_t> valid;  // [batch, len]: 0 for left padding

    int64_t layer_len(size_t layer) const { return k[layer].dim(1); }
};

// A batch-1 cache whose every layer holds all of that layer's rows of `a`, then rows `second` of `b`
// (whose layers all hold `b.len` rows); attention does not depend on the order of its keys.
KvCache join_rows(const KvCache& a, const KvCache& b, std::span<const int64_t> second);

// Drops rows `drop` (sorted, unique) from layers `from_layer` on of a batch-1 cache.
void drop_rows(KvCache& c, size_t from_layer, std::span<const int64_t> drop);

}  // namespace dimple
