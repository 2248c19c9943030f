#include "io/stacked_linear.h"

#include <algorithm>

#include "core/error.h"

namespace dimple {

namespace {

Tensor stack_rows(const std::vector<Tensor>& parts) {
    return parts.empty() ? Tensor() : parts.size() == 1 ? parts[0] : Tensor::concat_rows(parts);
}

}  // namespace

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
    return {stack_rows(weights), stack_rows(scales), stack_rows(biases)};
}

namespace {

std::string layer_key(const std::vector<std::string>& names) {
    std::string key;
    for (const std::string& n : names) key += (key.empty() ? "" : "+") + n;
    return key;
}

// The layers from model.packed, or an empty Linear when it does not hold them as stored now.
Linear load_packed(const Checkpoint& ck, const std::vector<std::string>& names, const std::vector<Shape>& shapes,
                   bool bias) {
    if (!ck.packed()) return {};
    std::vector<Tensor> scales, biases;
    for (size_t i = 0; i < names.size(); ++i) {
        const Checkpoint::LinearWeight w = ck.linear_weight(names[i], shapes[i]);  // views: nothing read
        if (w.scale.empty()) return {};
        scales.push_back(w.scale);
        if (bias) biases.push_back(ck.get(names[i] + ".bias", {shapes[i][0]}).to_f32());
    }
    const Tensor scale = stack_rows(scales), b = stack_rows(biases);
    const PrepackedInt8* p = ck.packed()->find(layer_key(names), scale);
    const int64_t out = scale.numel(), in = shape_numel(shapes[0]) / shapes[0][0];
    if (!p || p->layout != int8_weight_layout(in, out)) return {};
    return Linear(*p, in, out, scale, bias ? &b : nullptr);
}

}  // namespace

Linear load_linear(const Checkpoint& ck, const std::vector<std::string>& names, const std::vector<Shape>& shapes,
                   bool bias, Compute compute) {
    Linear lin = compute == Compute::Int8 ? load_packed(ck, names, shapes, bias) : Linear();
    if (lin.out_features() == 0) {
        const StackedLinear s = stacked_linear(ck, names, shapes, bias, compute == Compute::Int8);
        lin = Linear(s.weight, s.scale.empty() ? nullptr : &s.scale, bias ? &s.bias : nullptr, compute);
        if (ck.packed_writer() && compute == Compute::Int8)
            ck.packed_writer()->add(layer_key(names), lin.prepacked_int8(), lin.out_features(), s.scale);
    }
    for (const std::string& name : names) {
        ck.release(name + ".weight");
        ck.release(name + ".bias");
    }
    return lin;
}

}  // namespace dimple
