// A prompt ready for the language model: token ids, their embeddings with image rows already in
// place of the image-pad tokens, and their M-RoPE positions.
#pragma once

#include <span>
#include <vector>

#include "model/language_model.h"

namespace dimple {

struct Prompt {
    std::vector<int64_t> ids;
    Tensor embeddings;  // [ids.size(), hidden]
    Positions positions;
};

// `image_rows` [sum of t*h*w/4, hidden] are the projected vision rows of `grids`, in order; they
// replace the embeddings of the image-pad tokens one for one.
Prompt make_prompt(const LanguageModel& lm, std::span<const int64_t> ids,
                   std::span<const ImageGrid> grids = {}, const Tensor* image_rows = nullptr);

}  // namespace dimple
