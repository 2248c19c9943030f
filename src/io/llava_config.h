// LLaDA-V's vision path as its config.json (the mm_* keys) and its SigLIP tower folder describe it,
// and the names of its vision tensors: what the SigLIP tower, the anyres layout and the parameter
// list read (spec llada.md sections 1, 3, 4).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "io/checkpoint.h"

namespace dimple {

// The SigLIP vision transformer's sizes, from the tower folder's config.json.
struct SiglipConfig {
    int hidden_size = 0, intermediate_size = 0, num_heads = 0;
    int num_hidden_layers = 0;  // of the published tower; LLaDA-V keeps all but the last
    int image_size = 384, patch_size = 14;
    double layer_norm_eps = 1e-6;
    std::string hidden_act = "gelu_pytorch_tanh";

    int head_dim() const { return hidden_size / num_heads; }
    int patches_per_side() const { return image_size / patch_size; }
    int patches() const { return patches_per_side() * patches_per_side(); }
};

// How an image becomes crops (`image_aspect_ratio`).
enum class AspectMode {
    AnyresMax,  // "anyres_max_N": base view + best-resolution tiles, the map shrunk to about N tiles
    Pad,        // "pad": the image centred on a grey square, one crop
};

// How the tiles' feature map becomes rows (`mm_patch_merge_type` "spatial[_unpad|_maxpool2x2]").
enum class TileMerge {
    Unpad,       // "spatial_unpad": the black bars' rows and columns dropped, image_newline after each map row
    Maxpool2x2,  // "spatial_maxpool2x2": the map max-pooled 2x2 (floor), no newline
    Raster,      // "spatial": the map as it is, row by row
};

struct LlavaVisionConfig {
    SiglipConfig tower;
    std::string tower_name;  // mm_vision_tower as written in config.json
    int mm_hidden_size = 0;  // the tower's width as the projector reads it
    int lm_hidden_size = 0;  // the projector's output: the language model's width
    AspectMode aspect = AspectMode::AnyresMax;
    int anyres_max = 4;  // N of "anyres_max_N"
    TileMerge merge = TileMerge::Unpad;
    bool base_view = true;  // the base view's rows before the map's (no "_nobase" suffix)
    // image_grid_pinpoints as (width, height) candidates, in the file's order (ties go to the first).
    std::vector<std::pair<int, int>> grid_pinpoints;
};

// LLaDA-V's fixed geometry (goldens README V2): the original's merge code reads the DEFAULT
// SigLipVisionConfig whatever tower is loaded, so every crop is 384 x 384 and 27 x 27 patches.
constexpr int kLlavaCropSize = 384;
// LLaVA's IMAGE_TOKEN_INDEX: the prompt holds it where an image's rows go (no vocabulary id).
constexpr int64_t kLlavaImageId = -200;
constexpr int kLlavaPatchesPerSide = 27;
constexpr int kLlavaPatches = kLlavaPatchesPerSide * kLlavaPatchesPerSide;

// Reads the mm_* keys of an LLaDA-V config.json (`label` names it in errors) and the tower's
// sizes: from the folder mm_vision_tower names (absolute, or relative to model_dir) when it has a
// config.json (a SigLIP config or one with a "vision_config" object), else from the published
// so400m-patch14-384 sizes when the name is that hub tower; otherwise an error says what to do.
LlavaVisionConfig parse_llava_vision(const nlohmann::json& config_json, const std::string& model_dir,
                                     const std::string& label);

// Tensor names (spec section 1).
inline constexpr const char* kSiglipPrefix = "model.vision_tower.vision_tower.vision_model.";
inline constexpr const char* kProjectorPrefix = "model.mm_projector.";
inline constexpr const char* kImageNewline = "model.image_newline";
std::string siglip_layer_prefix(int layer);  // kSiglipPrefix + "encoder.layers.{layer}."

// The tower layers the checkpoint holds (layers 0..n-1, each complete), checked against the tower
// config: LLaDA-V's loader deleted the last layer, so n must be num_hidden_layers - 1.
int llava_tower_layers(const Checkpoint& ck, const LlavaVisionConfig& config);

}  // namespace dimple
