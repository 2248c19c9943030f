// Linear layers of a vision tower from the checkpoint, with their biases: one layer, or several that
// read the same input stacked into one product (io/stacked_linear.h). The packed copy is all that is
// used from then on, so the mapped pages are released.
#pragma once

#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/stacked_linear.h"
#include "kernels/matmul.h"

namespace dimple {

inline Linear load_linear(const Checkpoint& ck, const std::vector<std::string>& names,
                          const std::vector<Shape>& shapes, Compute compute) {
    const StackedLinear s = stacked_linear(ck, names, shapes, true, compute == Compute::Int8);
    Linear lin(s.weight, s.scale.empty() ? nullptr : &s.scale, &s.bias, compute);
    release_linear(ck, names);
    return lin;
}

inline Linear load_linear(const Checkpoint& ck, const std::string& name, int64_t out, int64_t in, Compute compute) {
    return load_linear(ck, std::vector<std::string>{name}, std::vector<Shape>{{out, in}}, compute);
}

}  // namespace dimple
