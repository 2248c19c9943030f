// The SigLIP vision transformer as LLaDA-V runs it (siglip_encoder.py): a 14 x 14 patch embedding
// with bias plus learned positions, pre-LayerNorm layers with biased q/k/v/out projections, softmax
// attention over the crop's 729 patches (no mask), a gelu_tanh MLP; the feature is the output of
// the last layer the checkpoint holds, with no post_layernorm (spec llada.md section 4).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/llava_config.h"
#include "kernels/matmul.h"

namespace dimple {

class SiglipTower {
public:
    // Loads `layers` encoder layers (llava_tower_layers counts them) and the embeddings.
    SiglipTower(const Checkpoint& ck, const SiglipConfig& config, int layers, Compute compute);

    // pixels [crops, 3, 384, 384] (siglip_pixel_values) -> [crops, 729, hidden]. Crops never attend
    // to each other. With `hidden`: the embeddings, then every layer's output, each [crops, 729, hidden].
    Tensor forward(const Tensor& pixels, std::vector<Tensor>* hidden = nullptr) const;

    int layers() const { return int(layers_.size()); }
    int64_t hidden_size() const { return config_.hidden_size; }

private:
    struct Layer {
        Tensor norm1_w, norm1_b, norm2_w, norm2_b;  // f32
        Linear qkv, out, fc1, fc2;                  // q, k and v stacked: one product, [q | k | v] per row
    };
    Tensor patch_rows(const Tensor& pixels) const;

    SiglipConfig config_;
    Linear patch_embed_;  // the stride-14 Conv2d as a product over flattened (3, 14, 14) patches
    Tensor positions_;    // [729, hidden] f32
    std::vector<Layer> layers_;
};

}  // namespace dimple
