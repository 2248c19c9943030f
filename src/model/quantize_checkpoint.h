// `dimple quantize`: a model folder -> the same folder with int8 linear weights, which loads in
// --compute int8 without quantizing anything (and in the float modes, dequantized at load).
//
// Naming (one model.safetensors): every linear layer's `<name>.weight` (the language model's
// projections and lm_head, the vision blocks, merger, patch embedding and projector) becomes an
// I8 tensor of the same shape, round(w / s) per output row, next to `<name>.weight_scale`, F32
// [out], s = max |w| / 127 of that row. Everything else (embedding table, norms, biases) is
// copied as published, and so are the folder's other files (config, tokenizer, processor).
#pragma once

#include <functional>
#include <string>

namespace dimple {

struct QuantizeProgress {
    int done = 0, total = 0;  // tensors
    std::string name;         // the one just written
};

void quantize_checkpoint(const std::string& model_dir, const std::string& out_dir,
                         const std::function<void(const QuantizeProgress&)>& progress = {});

}  // namespace dimple
