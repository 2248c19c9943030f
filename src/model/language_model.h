// The Dream / Dimple language model (spec section 6): a Qwen2 decoder with bidirectional attention.
// Runs a batch of equal-length (left-padded) rows, optionally on top of cached keys/values.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "kernels/matmul.h"
#include "model/kv_cache.h"
#include "model/positions.h"
#include "model/visual_pruning.h"

namespace dimple {

struct DllmCache;

// One sequence of a packed batch (continuous batching): `len` rows of the input, attending to its
// own cache `past` (batch 1, may be null) and to its own rows only.
struct PackedSequence {
    int64_t len = 0;
    const KvCache* past = nullptr;
    int64_t keep = 0;              // store keys/values of its first `keep` tokens...
    KvCache* keep_into = nullptr;  // ...here (batch 1)
    VisualPruning* prune = nullptr;  // hides image keys from the layers after prune->layer
    ImageAttention* image_attention = nullptr;  // measured at every layer (not with pruning)
};

// One forward call. Rows are b-major: row b*len + i is token i of sequence b.
struct ForwardInput {
    int64_t batch = 0, len = 0;
    Tensor embeddings;                             // [batch*len, hidden]
    std::vector<std::array<int64_t, 3>> positions;  // [batch*len]
    std::vector<uint8_t> valid;                     // [batch*len], empty = all valid
    const KvCache* past = nullptr;                  // attend to these first (same batch)
    int64_t keep = 0;         // store keys/values of the first `keep` tokens of each row...
    KvCache* keep_into = nullptr;  // ...here
    std::vector<Tensor>* trace = nullptr;  // hidden states: input, each layer but the last, final norm
    std::vector<uint8_t> skip_layers;       // [layers], 1: the whole call skips that layer; empty: none
    // Rows that visual-token pruning drops from this call leave the later layers (the fast way);
    // with this, they are computed on and only hidden from the others' attention (the reference).
    bool prune_by_mask = false;
    // Packed sequences instead of equal-length rows: batch 1, `len` = their total length, the rows
    // holding the sequences one after another, and `past`, `keep`, `valid` unused. Each sequence
    // sees exactly the keys it would see alone, with the same attention shapes, and every other
    // stage works row by row, so packing requests together does not change any of their results.
    std::vector<PackedSequence> packed;
};

class LanguageModel {
public:
    LanguageModel(const Checkpoint& ckpt, const ModelConfig& cfg, Compute compute);

    const ModelConfig& config() const { return cfg_; }
    Compute compute() const { return compute_; }
    size_t weight_bytes() const;

    // Embedding rows of the given ids [n, hidden] (read from the mapped checkpoint, no copy kept).
    Tensor embed(std::span<const int64_t> ids) const;
    // Final-normed hidden states [batch*len, hidden].
    Tensor forward(const ForwardInput& in) const;
    // dLLM-Cache (model/dllm_cache.h, language_model_dllm.cpp): one forward of a whole sequence
    // (batch 1) whose layers recompute only the rows the cache's schedule picks and take the other
    // rows' attention and MLP outputs from `cache`. Final-normed hidden states [rows, hidden].
    Tensor forward_dllm(const Tensor& embeddings, std::span<const std::array<int64_t, 3>> positions,
                        DllmCache& cache) const;
    // Logits [rows.size(), vocab] of the selected rows of `hidden` only.
    Tensor logits(const Tensor& hidden, std::span<const int64_t> rows) const;

private:
    struct Layer {
        Tensor input_norm, post_norm;  // f32 [hidden]
        Linear qkv, o;  // q, k and v stacked: one product, [q | k | v] per row
        Linear gate_up, down;  // gate and up stacked: one product, [gate | up] per row
    };
    ModelConfig cfg_;
    Compute compute_;
    Tensor embed_tokens_;  // the checkpoint's own tensor (mapped)
    std::vector<Layer> layers_;
    Tensor final_norm_;
    Linear lm_head_;
};

}  // namespace dimple
