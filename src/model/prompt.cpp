#include "model/prompt.h"

#include <algorithm>

#include "core/error.h"

namespace dimple {

Prompt make_prompt(const LanguageModel& lm, std::span<const int64_t> ids,
                   std::span<const ImageGrid> grids, const Tensor* image_rows) {
    const ModelConfig& cfg = lm.config();
    Prompt p;
    p.ids.assign(ids.begin(), ids.end());
    check(!ids.empty(), "the prompt is empty");
    const int merge = cfg.vision ? cfg.vision->spatial_merge_size : 2;
    p.positions = cfg.positions == PositionScheme::Sequential ? sequential_positions(ids.size())
                                                              : compute_positions(ids, {}, cfg.ids.image, grids, merge);
    const int64_t pads = std::count(ids.begin(), ids.end(), cfg.ids.image);
    if (pads == 0) {
        p.embeddings = lm.embed(ids);
        return p;
    }
    check(image_rows && image_rows->dim(0) == pads && image_rows->dim(1) == cfg.hidden_size,
          "the prompt has ", pads, " image tokens but ", image_rows ? image_rows->dim(0) : 0,
          " image rows were given");
    // Image positions get their rows below; an image id outside the vocabulary (LLaDA-V's -200) is
    // embedded as id 0 until then.
    std::vector<int64_t> text_ids(ids.begin(), ids.end());
    std::replace(text_ids.begin(), text_ids.end(), cfg.ids.image, int64_t(0));
    p.embeddings = lm.embed(text_ids);
    int64_t r = 0;
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == cfg.ids.image)
            std::copy_n(image_rows->row(r++), cfg.hidden_size, p.embeddings.row(int64_t(i)));
    return p;
}

}  // namespace dimple
