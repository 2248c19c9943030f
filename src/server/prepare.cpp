#include "server/prepare.h"

#include <algorithm>

#include "core/error.h"
#include "decode/decode_state.h"
#include "vision/preprocess.h"

namespace dimple::server {

namespace {

// The tokens an image takes in the prompt, as the engine will expand its placeholder.
int64_t image_tokens(const Image& img, const PreprocessorConfig& pre) {
    try {
        const int factor = pre.patch_size * pre.merge_size;
        const auto [h, w] = smart_resize(img.height, img.width, factor, pre.min_pixels, pre.max_pixels);
        return int64_t(h / pre.patch_size) * (w / pre.patch_size) / (pre.merge_size * pre.merge_size);
    } catch (const Error& e) {
        bad_request("messages", std::string("an image cannot be used: ") + e.what(), "invalid_image");
    }
}

}  // namespace

JobInput prepare_job(ChatRequest&& req, const ServerContext& ctx) {
    const ModelConfig& cfg = ctx.engine.config();
    const int64_t limit = ctx.options.limits.max_prompt_tokens;
    if (!req.images.empty() && !ctx.engine.has_vision())
        bad_request("messages", "this model has no vision tower: it cannot take images", "unsupported_value");
    // The images' tokens come from their sizes alone; the text is then encoded only as far as the
    // limit leaves room for (each image also stands in the text as one placeholder token).
    int64_t image_tokens_total = 0;
    for (const Image& img : req.images) image_tokens_total += image_tokens(img, ctx.preprocessor);
    const int64_t images = int64_t(req.images.size());
    auto too_long = [&](const std::string& count) {
        bad_request("messages", "the prompt has " + count + " tokens (images included); the limit is " +
                                    std::to_string(limit) + " (--max-prompt-tokens)", "context_length_exceeded");
    };
    if (image_tokens_total > limit) too_long("more than " + std::to_string(limit));
    JobInput in;
    try {
        in.ids = ctx.engine.chat_ids(req.messages, size_t(limit - image_tokens_total + images));
    } catch (const Error& e) {
        bad_request("messages", e.what());
    }
    const int64_t prompt_tokens = int64_t(in.ids.size()) - images + image_tokens_total;
    if (prompt_tokens > limit) too_long("more than " + std::to_string(limit));
    const int64_t pads = std::count(in.ids.begin(), in.ids.end(), cfg.ids.image);
    if (cfg.ids.image >= 0 && pads != images)  // "<|image_pad|>" typed as text
        bad_request("messages", "the messages' text holds " + std::to_string(pads - images) +
                                    " image placeholder token(s) of its own; send images as image_url parts");
    in.options = req.options;
    if (prompt_tokens + in.options.max_new_tokens > cfg.max_positions)
        bad_request("max_tokens", "the prompt (" + std::to_string(prompt_tokens) + " tokens) plus max_tokens (" +
                                      std::to_string(in.options.max_new_tokens) + ") exceeds the model's " +
                                      std::to_string(cfg.max_positions) + " positions", "context_length_exceeded");
    try {
        in.options.fixed = ctx.engine.priors(req.answer_template, req.length, in.options.max_new_tokens);
    } catch (const Error& e) {
        bad_request(req.answer_template.empty() ? "length" : "template", e.what());
    }
    try {
        validate_acceleration(in.options.accel, cfg.num_layers, in.options.use_cache);
    } catch (const Error& e) {
        bad_request("acceleration", e.what());
    }
    try {
        validate_generate_options(in.options, cfg, prompt_tokens);
    } catch (const Error& e) {
        bad_request("", e.what());
    }
    in.prompt_tokens = prompt_tokens;
    in.images = std::move(req.images);
    in.stop = std::move(req.stop);
    in.step_events = req.stream;
    return in;
}

}  // namespace dimple::server
