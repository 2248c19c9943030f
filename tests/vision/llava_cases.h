// The 18 images of tests/goldens/llada-v-tiny/vision.json, made as the golden script made them, and
// the tiny LLaDA-V's vision config, shared by the LLaDA-V vision tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/llava_config.h"
#include "vision/image.h"

namespace dtest {

std::string llava_golden_dir();  // tests/goldens/llada-v-tiny (committed)
dimple::Tensor llava_golden(const std::string& name);  // <name>.npy there
const nlohmann::json& llava_cases();                    // vision.json's "cases"
std::vector<std::string> llava_case_names();            // in vision.json's order
// The case's picture: a photo (convert("RGB")), a crop of photo 1, or the synthetic pattern.
dimple::Image llava_case_image(const std::string& name);

// The committed model/config.json with mm_vision_tower pointed at the committed siglip-tiny (the
// file names the hub tower as published): the preprocessing and layout tests need no weights.
dimple::LlavaVisionConfig llava_tiny_config();

}  // namespace dtest
