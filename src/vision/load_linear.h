// Linear layers of a vision tower from the checkpoint, with their biases: one layer, or several that
// read the same input stacked into one product (io/stacked_linear.h).
#pragma once

#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/stacked_linear.h"
#include "kernels/matmul.h"

namespace dimple {

inline Linear load_linear(const Checkpoint& ck, const std::vector<std::string>& names,
                          const std::vector<Shape>& shapes, Compute compute) {
    return load_linear(ck, names, shapes, true, compute);
}

inline Linear load_linear(const Checkpoint& ck, const std::string& name, int64_t out, int64_t in, Compute compute) {
    return load_linear(ck, std::vector<std::string>{name}, std::vector<Shape>{{out, in}}, compute);
}

}  // namespace dimple
