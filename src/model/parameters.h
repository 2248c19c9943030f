// The parameter names and shapes a config implies: the single list that loading, `dimple info`
// and checkpoint validation all read.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/config.h"

namespace dimple {

enum class Component { Vision, Projector, LanguageModel };

struct ParameterSpec {
    std::string name;
    Shape shape;
    Component component;
    bool linear = false;  // a weight matrix that a Linear layer repacks (quantized in int8 mode)
};

std::vector<ParameterSpec> expected_parameters(const ModelConfig& c);

// The language model's tensor names (without ".weight"/".bias") under the config's naming.
struct LayerTensorNames {
    std::string attn_norm, q, k, v, o, ffn_norm, gate, up, down;
};
struct LmTensorNames {
    std::string embed, final_norm, head;  // head: the embedding table when tied
    TensorNaming naming = TensorNaming::HuggingFace;
    LayerTensorNames layer(int i) const;
};
LmTensorNames lm_tensor_names(const ModelConfig& c);
std::string component_name(Component c);

}  // namespace dimple
