#include "engine/decoding_options.h"

#include "core/error.h"
#include "decode/priors.h"

namespace dimple {

Acceleration acceleration(const DecodingOptions& o) {
    Acceleration a;
    a.early_stop = parse_early_stop(o.early_stop);
    a.block_length = o.block_length;
    a.dual_cache = o.dual_cache;
    a.cache_refresh = o.cache_refresh;
    if (!o.skip_layers.empty()) a.skip_layers = parse_layer_list(o.skip_layers);
    a.skip_from_step = o.skip_from;
    a.prune_layer = o.prune_layer;
    a.prune_keep = o.prune_keep;
    a.prune_when = parse_prune_when(o.prune_when);
    a.prune_step = o.prune_step;
    return a;
}

GenerateOptions generate_options(const DecodingOptions& o, const Engine& engine) {
    // What the conversion below would otherwise read as "off" (NaN fails every comparison).
    check(o.threshold >= 0 && o.threshold <= 1, "threshold must be in [0, 1] (0: off; got ", o.threshold, ")");
    check(o.top_k >= 0, "top_k must be >= 0 (0: off; got ", o.top_k, ")");
    check(!o.length || *o.length >= 0, "length must be >= 0 (got ", o.length.value_or(0), ")");
    GenerateOptions g;
    g.max_new_tokens = o.max_new_tokens;
    g.steps = o.steps;
    g.eps = o.eps;
    g.pipeline = parse_pipeline(o.pipeline);
    g.alg = parse_algorithm(o.alg);
    g.sampling.temperature = o.temperature;
    g.sampling.top_p = o.top_p;
    g.sampling.top_k = o.top_k > 0 ? std::optional<int>(o.top_k) : std::nullopt;
    g.alg_temp = o.alg_temp;
    g.use_original_confidence = o.original_confidence;
    g.threshold = o.threshold > 0 ? std::optional<float>(o.threshold) : std::nullopt;
    g.use_cache = o.cache;
    g.seed = o.seed;
    g.fixed = engine.priors(o.answer_template, o.length, o.max_new_tokens);
    for (const auto& [offset, id] : parse_fixed_ids(o.fix_ids)) g.fixed[offset] = id;
    g.accel = acceleration(o);
    return g;
}

}  // namespace dimple
