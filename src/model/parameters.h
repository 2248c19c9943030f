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
std::string component_name(Component c);

}  // namespace dimple
