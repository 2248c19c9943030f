// The published models' configurations for synthetic checkpoints (bench_7b, bench_llada_v, tests):
// the config.json and the side files that family reads, with fewer layers on request (every tensor
// keeps its full width), written in the published layout by write_synthetic_checkpoint.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "model/synthetic.h"

namespace dimple {

struct SyntheticModel {
    std::string config_json;
    // Text files beside the weights (path relative to the folder, contents): a preprocessor config,
    // a vision tower's config.json. Written before the weights, since config.json may name them.
    std::vector<std::pair<std::string, std::string>> files;
    // The published generation_config.json when its ids differ from config.json's (LLaDA-V's bos):
    // replaces the one write_synthetic_checkpoint derives from config.json. Empty: keep that one.
    std::string generation_config_json;
};

// rp-yu/Dimple-7B: Dream-7B's language model, the Qwen2.5-VL tower, the projector; Qwen2.5-VL's
// preprocessor_config.json. layers <= 28, vision_depth <= 32.
SyntheticModel dimple7b_model(int layers = 28, int vision_depth = 32);

// GSAI-ML/LLaDA-V: LLaDA-8B's language model (LLaMA names), the SigLIP so400m-patch14-384 tower
// (27 layers published, the last dropped by the loader: tower_layers <= 26 present), mlp2x_gelu
// 1152 -> 4096 -> 4096, image_newline, anyres_max_4 over the 36 pinpoints. At 26 tower layers
// mm_vision_tower is the published hub name; with fewer, a "siglip" folder holds the tower's
// config.json (num_hidden_layers = tower_layers + 1) and mm_vision_tower names it.
SyntheticModel llada_v_model(int layers = 32, int tower_layers = 26);

// Chosen by name ("dimple-7b" or "llada-v"); 0 layers = as published. Unknown names: dimple::Error.
SyntheticModel published_model(const std::string& name, int layers = 0, int vision_layers = 0);

// The side files, then write_synthetic_checkpoint (which reads them through config.json).
void write_synthetic_model(const std::string& dir, const SyntheticModel& model, const SyntheticOptions& opt,
                           const SyntheticProgress& progress = {});

}  // namespace dimple
