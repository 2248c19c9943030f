#include "vision/llava_encoder.h"

#include <string>

#include "core/error.h"
#include "kernels/ops.h"
#include "vision/load_linear.h"

namespace dimple {

LlavaVisionEncoder::LlavaVisionEncoder(const Checkpoint& ck, const LlavaVisionConfig& config, int64_t lm_hidden,
                                       Compute compute)
    : config_(config), tower_(ck, config.tower, llava_tower_layers(ck, config), compute) {
    check(lm_hidden > 0, "LLaDA-V vision encoder: the language model's hidden size must be positive");
    const std::string p = kProjectorPrefix;
    proj1_ = load_linear(ck, p + "0", lm_hidden, config.mm_hidden_size, compute);
    proj2_ = load_linear(ck, p + "2", lm_hidden, lm_hidden, compute);
    newline_ = ck.get(kImageNewline, {lm_hidden}).to_f32();
}

Tensor LlavaVisionEncoder::project_crops(const Tensor& pixels, std::vector<Tensor>* tower_hidden) const {
    const Tensor feature = tower_.forward(pixels, tower_hidden);
    const int64_t crops = feature.dim(0);
    Tensor mid = proj1_.forward(feature.reshape({crops * kLlavaPatches, feature.dim(2)}));
    gelu_erf_inplace(mid.data<float>(), mid.numel());  // mlp2x_gelu's nn.GELU(): the exact erf form
    return proj2_.forward(mid).reshape({crops, kLlavaPatches, output_dim()});
}

Tensor LlavaVisionEncoder::encode(const Image& image, LlavaVisionTrace* trace) const {
    LlavaCrops crops = llava_crops(image, config_);
    const Tensor pixels = siglip_pixel_values(crops.crops);
    const AnyresGeometry geometry = anyres_geometry(image.width, image.height, config_);
    const Tensor projected = project_crops(pixels, trace ? &trace->tower_hidden : nullptr);
    Tensor rows = image_rows(projected, newline_, geometry, trace ? &trace->layout : nullptr);
    if (trace) {
        trace->crops = std::move(crops);
        trace->pixel_values = pixels;
        trace->projected = projected;
        trace->geometry = geometry;
    }
    return rows;
}

}  // namespace dimple
