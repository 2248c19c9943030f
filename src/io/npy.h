// NumPy .npy files (format 1.0-3.0, little-endian, C order): how goldens and parity inputs travel
// between the PyTorch reference and the engine.
#pragma once

#include <string>

#include "core/tensor.h"

namespace dimple {

// Reads f4/f8 (as F32, f8 narrowed), i8/i4 (as I64), u1 (as U8). Fortran order is refused.
Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

}  // namespace dimple
