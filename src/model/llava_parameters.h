// The tensors of LLaDA-V's vision path (SigLIP tower, mlp2x_gelu projector, image_newline), for the
// parameter list that loading, `dimple info` and checkpoint validation read (model/parameters.h).
#pragma once

#include <cstdint>
#include <vector>

#include "io/llava_config.h"
#include "model/parameters.h"

namespace dimple {

// `tower_layers`: the encoder layers the checkpoint holds (llava_tower_layers). post_layernorm is
// listed although never used: LLaDA-V's checkpoint carries it.
std::vector<ParameterSpec> llava_vision_parameters(const LlavaVisionConfig& config, int64_t lm_hidden,
                                                   int tower_layers);

}  // namespace dimple
