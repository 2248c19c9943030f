// LLaDA-V's whole vision path for one image: anyres crops -> SigLIP tower -> mlp2x_gelu projector
// (per crop, before any spatial step) -> the anyres layout with image_newline rows. Its output
// replaces the image's -200 placeholder in the prompt (spec llada.md sections 3 and 4).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/llava_config.h"
#include "kernels/matmul.h"
#include "vision/anyres.h"
#include "vision/anyres_layout.h"
#include "vision/image.h"
#include "vision/siglip.h"

namespace dimple {

// Intermediates of one encode() call, for tests.
struct LlavaVisionTrace {
    LlavaCrops crops;
    Tensor pixel_values;              // [crops, 3, 384, 384]
    std::vector<Tensor> tower_hidden; // embeddings, then each layer's output: [crops, 729, tower hidden]
    Tensor projected;                 // [crops, 729, LM hidden]
    AnyresGeometry geometry;
    LayoutTrace layout;
};

class LlavaVisionEncoder {
public:
    // The tower's layer count comes from the checkpoint (llava_tower_layers); `lm_hidden` is the
    // language model's width, which the projector maps to.
    LlavaVisionEncoder(const Checkpoint& ck, const LlavaVisionConfig& config, int64_t lm_hidden, Compute compute);

    // [rows_for(width, height), LM hidden]: the image's rows in prompt order. All crops of the image
    // go through the tower in one batch.
    Tensor encode(const Image& image, LlavaVisionTrace* trace = nullptr) const;
    int64_t rows_for(int width, int height) const { return llava_image_rows(width, height, config_); }

    // Tower and projector over pixel values [crops, 3, 384, 384] -> [crops, 729, LM hidden].
    Tensor project_crops(const Tensor& pixels, std::vector<Tensor>* tower_hidden = nullptr) const;

    const LlavaVisionConfig& config() const { return config_; }
    int tower_layers() const { return tower_.layers(); }
    int64_t output_dim() const { return proj2_.out_features(); }

private:
    LlavaVisionConfig config_;
    SiglipTower tower_;
    Linear proj1_, proj2_;  // mm_projector.0 and .2 (.1 is the GELU)
    Tensor newline_;        // image_newline [LM hidden] f32
};

}  // namespace dimple
