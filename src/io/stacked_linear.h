// The weights of linear layers that read the same input, stacked along the output dimension so that
// one product serves them all (q, k and v of attention; gate and up of a SwiGLU MLP): one pass over
// the input, one activation conversion or quantization, and a wider, more efficient product.
#pragma once

#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/matmul.h"

namespace dimple {

struct StackedLinear {
    Tensor weight;  // [sum of outs, in], the layers' rows one after another
    Tensor scale;   // [sum of outs] f32 when the weight is I8, else empty
    Tensor bias;    // [sum of outs] f32 when asked for, else empty
};

// `names[i]` (without ".weight") has weight shape `shapes[i]` = [out_i, in...]. With `int8` the
// weights come as linear_weight_int8 gives them (stored, or quantized while read). Weights stored
// in different float types are stacked as f32; an int8 weight beside a float one is an error.
StackedLinear stacked_linear(const Checkpoint& ck, const std::vector<std::string>& names,
                             const std::vector<Shape>& shapes, bool bias, bool int8);

// The Linear of those layers stacked, with their biases when `bias`. In int8 it maps them from the
// folder's model.packed when that holds them in this machine's layout (io/packed_weights.h), and
// stores them into the checkpoint's packed_writer() when it has one. The mapped pages of the
// weights are released once repacked, so that loading costs about the weights' size once.
Linear load_linear(const Checkpoint& ck, const std::vector<std::string>& names, const std::vector<Shape>& shapes,
                   bool bias, Compute compute);

}  // namespace dimple
