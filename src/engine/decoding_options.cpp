#include "engine/decoding_options.h"

#include "core/error.h"
#include "decode/priors.h"

namespace dimple {

namespace {

// The faster-decoding options set to other than their default, over `a` (the family's, or the
// speed preset's); throws dimple::Error on a bad name or layer list.
Acceleration acceleration(const DecodingOptions& o, Acceleration a) {
    static const DecodingOptions d;
    if (o.early_stop != d.early_stop) a.early_stop = parse_early_stop(o.early_stop);
    if (o.block_length) a.block_length = *o.block_length;
    if (o.dual_cache != d.dual_cache) a.dual_cache = o.dual_cache;
    if (o.cache_refresh != d.cache_refresh) a.cache_refresh = o.cache_refresh;
    if (!o.skip_layers.empty()) a.skip_layers = parse_layer_list(o.skip_layers);
    if (o.skip_from != d.skip_from) a.skip_from_step = o.skip_from;
    if (o.prune_layer != d.prune_layer) a.prune_layer = o.prune_layer;
    if (o.prune_keep != d.prune_keep) a.prune_keep = o.prune_keep;
    if (o.prune_when != d.prune_when) a.prune_when = parse_prune_when(o.prune_when);
    if (o.prune_step != d.prune_step) a.prune_step = o.prune_step;
    if (!o.dllm_cache.empty()) a.dllm_cache = parse_dllm_cache(o.dllm_cache);
    return a;
}

}  // namespace

GenerateOptions generate_options(const DecodingOptions& o, const Engine& engine) {
    // What the conversion below would otherwise read as "off" (NaN fails every comparison).
    check(!o.threshold || (*o.threshold >= 0 && *o.threshold <= 1), "threshold must be in [0, 1] (0: off; got ",
          o.threshold.value_or(0), ")");
    check(!o.top_k || *o.top_k >= 0, "top_k must be >= 0 (0: off; got ", o.top_k.value_or(0), ")");
    check(!o.length || *o.length >= 0, "length must be >= 0 (got ", o.length.value_or(0), ")");
    check(!o.cfg_scale || *o.cfg_scale >= 0, "cfg_scale must be >= 0 (got ", o.cfg_scale.value_or(0), ")");
    GenerateOptions g = engine.family().decoding;
    if (o.max_new_tokens) g.max_new_tokens = *o.max_new_tokens;
    if (o.steps) g.steps = *o.steps;
    g.eps = o.eps;
    if (o.pipeline) g.pipeline = parse_pipeline(*o.pipeline);
    g.alg = parse_algorithm(o.alg);
    if (o.remasking) g.remasking = parse_remasking(*o.remasking);
    if (o.cfg_scale) g.cfg_scale = *o.cfg_scale;
    if (o.temperature) g.sampling.temperature = *o.temperature;
    if (o.top_p) g.sampling.top_p = *o.top_p;
    if (o.top_k) g.sampling.top_k = *o.top_k > 0 ? std::optional<int>(*o.top_k) : std::nullopt;
    g.alg_temp = o.alg_temp;
    g.use_original_confidence = o.original_confidence;
    if (o.threshold) g.threshold = *o.threshold > 0 ? std::optional<float>(*o.threshold) : std::nullopt;
    apply_speed(g, parse_speed(o.speed), engine.family().speeds);
    if (o.cache) g.use_cache = *o.cache;
    g.seed = o.seed;
    g.accel = acceleration(o, g.accel);
    g.fixed = engine.priors(o.answer_template, o.length, g.max_new_tokens);
    for (const auto& [offset, id] : parse_fixed_ids(o.fix_ids)) g.fixed[offset] = id;
    return g;
}

int answer_tokens(const DecodingOptions& o, const ModelConfig& cfg) {
    return o.max_new_tokens.value_or(model_family(cfg, nullptr).decoding.max_new_tokens);
}

}  // namespace dimple
