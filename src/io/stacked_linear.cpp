#include "io/stacked_linear.h"

#include <algorithm>

#include "core/error.h"

namespace dimple {

StackedLinear stacked_linear(const Checkpoint& ck, const std::vector<std::string>& names,
                             const std::vector<Shape>& shapes, bool bias, bool int8) {
    check(!names.empty() && names.size() == shapes.size(), "stacked_linear: one shape per layer");
    std::vector<Tensor> weights, scales, biases;
    for (size_t i = 0; i < names.size(); ++i) {
        Checkpoint::LinearWeight w = int8 ? ck.linear_weight_int8(names[i], shapes[i])
                                          : ck.linear_weight(names[i], shapes[i]);
        weights.push_back(std::move(w.weight));
        if (!w.scale.empty()) scales.push_back(std::move(w.scale));
        if (bias) biases.push_back(ck.get(names[i] + ".bias", {shapes[i][0]}).to_f32());
    }
    check(scales.empty() || scales.size() == weights.size(), ck.dir(), ": ", names[0], " and ", names.back(),
          " are stored in different formats");
    const bool mixed = std::any_of(weights.begin(), weights.end(),
                                   [&](const Tensor& t) { return t.dtype() != weights[0].dtype(); });
    if (mixed)
        for (Tensor& t : weights) t = t.to_f32();
    auto stack = [](const std::vector<Tensor>& parts) {
        return parts.empty() ? Tensor() : parts.size() == 1 ? parts[0] : Tensor::concat_rows(parts);
    };
    return {stack(weights), stack(scales), stack(biases)};
}

void release_linear(const Checkpoint& ck, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
        ck.release(name + ".weight");
        ck.release(name + ".bias");
    }
}

}  // namespace dimple
