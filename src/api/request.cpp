// The C API's requests: options, building the prompt, stepping alone or in a batch, the answer
// (include/dimple.h). Every step goes through step_together (decode/batch_forward.h), the loop
// step the command line and the server use.
#include <algorithm>
#include <chrono>
#include <functional>
#include <numeric>

#include "api/api_call.h"
#include "api/handles.h"
#include "core/error.h"
#include "decode/batch_forward.h"
#include "vision/image.h"

using namespace dimple;
using namespace dimple::api;

namespace {

const DecodingOptions& defaults() {
    static const DecodingOptions d;
    return d;
}

std::string text_or(const char* s, const std::string& fallback) { return s ? s : fallback; }

Image to_image(const dimple_image& im, size_t index) {
    const std::string label = "image " + std::to_string(index);
    if (im.path) return load_image(im.path);
    const ImageLimits limits;
    require(im.rgb != nullptr, label + ": neither a path nor rgb pixels");
    check(im.width > 0 && im.height > 0 && im.width <= limits.max_side && im.height <= limits.max_side &&
              int64_t(im.width) * im.height <= limits.max_pixels,
          label, ": ", im.width, "x", im.height, " pixels (each side 1..", limits.max_side, ", at most ",
          limits.max_pixels, " pixels)");
    Image out;
    out.width = im.width;
    out.height = im.height;
    out.rgb.assign(im.rgb, im.rgb + size_t(im.width) * size_t(im.height) * 3);
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Builds the request once the prompt's ids and images are known.
dimple_status create(dimple_model* model, const std::function<std::vector<int64_t>()>& prompt_ids,
                     const std::vector<const dimple_image*>& images, const dimple_decoding_options* options,
                     dimple_request** request) {
    return api_call([&] {
        require(request != nullptr, "the request pointer is NULL");
        *request = nullptr;
        require(model != nullptr, "the model is NULL");
        const Engine& engine = model->engine;
        const DecodingOptions d = decoding_options(options);
        const int answer = answer_tokens(d, engine.config());
        check(answer <= engine.limits().answer_tokens, "max_new_tokens ", answer,
              " is more than the ", engine.limits().answer_tokens,
              " the model was loaded for (dimple_model_options.max_answer_tokens)");
        const auto t0 = std::chrono::steady_clock::now();
        const GenerateOptions g = generate_options(d, engine);
        std::vector<int64_t> ids = prompt_ids();
        std::vector<Image> pictures;
        for (size_t i = 0; i < images.size(); ++i) pictures.push_back(to_image(*images[i], i));
        auto r = std::make_unique<dimple_request>();
        r->model = model;
        {
            const std::lock_guard lock(model->running);  // the vision tower runs here
            r->state = std::make_unique<DecodeState>(engine.language_model(), engine.prompt(std::move(ids), pictures), g);
        }
        r->prompt_seconds = seconds_since(t0);
        r->refresh();
        *request = r.release();
    });
}

// One step of each of `requests` (one model), their passes together; the first failure is returned.
void step_requests(dimple_request* const* requests, size_t n) {
    require(n > 0 && requests != nullptr, "no requests");
    std::vector<DecodeState*> states;
    for (size_t i = 0; i < n; ++i) {
        require(requests[i] != nullptr, "request " + std::to_string(i) + " is NULL");
        require(requests[i]->model == requests[0]->model, "the requests of a batch must share one model");
        for (size_t j = 0; j < i; ++j)
            require(requests[j] != requests[i], "request " + std::to_string(i) + " is request " + std::to_string(j) +
                                                    " again: a batch holds each request once");
        states.push_back(requests[i]->state.get());
    }
    dimple_model& model = *requests[0]->model;
    std::vector<std::exception_ptr> errors;
    {
        const std::lock_guard lock(model.running);
        errors = step_together(model.engine.language_model(), states);
    }
    for (size_t i = 0; i < n; ++i) requests[i]->refresh();
    for (size_t i = 0; i < n; ++i)
        if (errors[i]) std::rethrow_exception(errors[i]);
}

void run_requests(dimple_request* const* requests, size_t n, dimple_step_callback callback, void* user_data) {
    auto unfinished = [&] {
        for (size_t i = 0; i < n; ++i)
            if (!requests[i]->state->finished()) return true;
        return false;
    };
    while (unfinished()) {
        std::vector<bool> stepping(n);
        for (size_t i = 0; i < n; ++i) stepping[i] = !requests[i]->state->finished();
        step_requests(requests, n);
        if (!callback) continue;
        bool cancel = false;
        for (size_t i = 0; i < n; ++i)
            if (stepping[i]) {
                const dimple_step s = step_view(*requests[i], i);
                cancel = callback(&s, user_data) != 0 || cancel;
            }
        if (cancel) throw ApiError(DIMPLE_ERROR_CANCELLED, "cancelled by the step callback");
    }
}

}  // namespace

void dimple_request::refresh() {
    const std::vector<int64_t> a = state->answer();
    const int64_t mask = model->engine.config().ids.mask;
    answer.assign(a.begin(), a.end());
    committed.resize(a.size());
    for (size_t i = 0; i < a.size(); ++i) committed[i] = a[i] != mask;
    text.clear();
}

namespace dimple::api {

DecodingOptions decoding_options(const dimple_decoding_options* in) {
    const dimple_decoding_options c = read_sized(in, dimple_decoding_options_init, "dimple_decoding_options");
    const DecodingOptions& d = defaults();
    DecodingOptions o;
    // The fields whose default is the model family's: a negative value (NULL for the pipeline) leaves
    // them to the model.
    if (c.max_new_tokens >= 0) o.max_new_tokens = c.max_new_tokens;
    if (c.steps >= 0) o.steps = c.steps;
    o.alg = text_or(c.alg, d.alg);
    if (c.pipeline) o.pipeline = c.pipeline;
    if (c.threshold >= 0 || c.threshold != c.threshold) o.threshold = c.threshold;  // NaN is refused later
    if (c.temperature >= 0 || c.temperature != c.temperature) o.temperature = c.temperature;
    if (c.top_p >= 0 || c.top_p != c.top_p) o.top_p = c.top_p;
    if (c.top_k >= 0) o.top_k = c.top_k;
    o.alg_temp = c.alg_temp;
    o.eps = c.eps;
    if (c.use_cache >= 0) o.cache = c.use_cache != 0;
    o.original_confidence = c.original_confidence != 0;
    o.seed = c.seed;
    o.answer_template = text_or(c.answer_template, "");
    if (c.length >= 0) o.length = c.length;
    o.fix_ids = text_or(c.fix_ids, "");
    o.early_stop = text_or(c.early_stop, d.early_stop);
    if (c.block_length >= 0) o.block_length = c.block_length;
    o.dual_cache = c.dual_cache != 0;
    o.cache_refresh = c.cache_refresh;
    o.skip_layers = text_or(c.skip_layers, "");
    o.skip_from = c.skip_from;
    o.prune_layer = c.prune_layer;
    o.prune_keep = c.prune_keep;
    o.prune_when = text_or(c.prune_when, d.prune_when);
    o.prune_step = c.prune_step;
    o.dllm_cache = text_or(c.dllm_cache, "");
    if (c.remasking) o.remasking = c.remasking;
    if (c.cfg_scale >= 0 || c.cfg_scale != c.cfg_scale) o.cfg_scale = c.cfg_scale;
    o.speed = text_or(c.speed, d.speed);
    return o;
}

dimple_step step_view(const dimple_request& r, size_t index) {
    const GenerateResult& res = r.state->result();
    dimple_step s{};
    s.size = sizeof s;
    s.request = index;
    s.step = res.steps_run;
    s.answer = r.answer.data();
    s.committed = r.committed.data();
    s.answer_len = r.answer.size();
    s.newly_committed = r.state->committed().data();
    s.n_newly_committed = r.state->committed().size();
    s.masks_left = r.state->masks_left();
    s.elapsed_seconds = std::accumulate(res.step_seconds.begin(), res.step_seconds.end(), 0.0);
    s.finished = r.state->finished();
    return s;
}

}  // namespace dimple::api

extern "C" {

void dimple_decoding_options_init(dimple_decoding_options* o) {
    if (!o) return;
    const DecodingOptions& d = defaults();
    *o = {};
    o->size = sizeof *o;
    o->max_new_tokens = -1;  // these (and remasking, cfg_scale): the model family's own (include/dimple.h)
    o->steps = -1;
    o->alg = d.alg.c_str();
    o->pipeline = nullptr;
    o->threshold = -1;
    o->temperature = -1;
    o->top_p = -1;
    o->top_k = -1;
    o->alg_temp = d.alg_temp;
    o->eps = d.eps;
    o->use_cache = -1;
    o->original_confidence = d.original_confidence;
    o->seed = d.seed;
    o->length = -1;
    o->early_stop = d.early_stop.c_str();
    o->block_length = -1;
    o->dual_cache = d.dual_cache;
    o->cache_refresh = d.cache_refresh;
    o->skip_from = d.skip_from;
    o->prune_layer = d.prune_layer;
    o->prune_keep = d.prune_keep;
    o->prune_when = d.prune_when.c_str();
    o->prune_step = d.prune_step;
    o->remasking = nullptr;
    o->cfg_scale = -1;
    o->speed = nullptr;
}

dimple_status dimple_request_create(dimple_model* model, const dimple_message* messages, size_t n_messages,
                                    const dimple_decoding_options* options, dimple_request** request) {
    std::vector<const dimple_image*> images;
    for (size_t m = 0; messages && m < n_messages; ++m)
        for (size_t i = 0; messages[m].images && i < messages[m].n_images; ++i) images.push_back(&messages[m].images[i]);
    return create(model, [&] { return model->engine.chat_ids(chat_messages(messages, n_messages)); }, images, options,
                  request);
}

dimple_status dimple_request_create_from_ids(dimple_model* model, const dimple_token* ids, size_t n_ids,
                                             const dimple_image* images, size_t n_images,
                                             const dimple_decoding_options* options, dimple_request** request) {
    std::vector<const dimple_image*> pictures;
    for (size_t i = 0; images && i < n_images; ++i) pictures.push_back(&images[i]);
    if (n_images > 0 && images == nullptr) return set_error(DIMPLE_ERROR_INVALID_ARGUMENT, "images is NULL");
    return create(model, [&] { return checked_ids(*model, ids, n_ids); }, pictures, options, request);
}

void dimple_request_free(dimple_request* request) { delete request; }

void dimple_step_init(dimple_step* step) {
    if (!step) return;
    *step = {};
    step->size = sizeof *step;
}

dimple_status dimple_request_step(dimple_request* request) {
    return api_call([&] {
        require(request != nullptr, "the request is NULL");
        if (!request->state->finished()) step_requests(&request, 1);
    });
}

dimple_status dimple_request_run(dimple_request* request, dimple_step_callback callback, void* user_data) {
    return api_call([&] {
        require(request != nullptr, "the request is NULL");
        run_requests(&request, 1, callback, user_data);
    });
}

dimple_status dimple_request_get_step(const dimple_request* request, dimple_step* step) {
    return api_call([&] {
        require(request != nullptr, "the request is NULL");
        write_sized(step, step_view(*request, 0), "dimple_step");
    });
}

int dimple_request_finished(const dimple_request* request) { return request && request->state->finished(); }

dimple_status dimple_batch_step(dimple_request* const* requests, size_t n_requests) {
    return api_call([&] { step_requests(requests, n_requests); });
}

dimple_status dimple_batch_run(dimple_request* const* requests, size_t n_requests, dimple_step_callback callback,
                               void* user_data) {
    return api_call([&] {
        require(n_requests > 0 && requests != nullptr, "no requests");
        for (size_t i = 0; i < n_requests; ++i) require(requests[i] != nullptr, "request " + std::to_string(i) + " is NULL");
        run_requests(requests, n_requests, callback, user_data);
    });
}

void dimple_result_init(dimple_result* result) {
    if (!result) return;
    *result = {};
    result->size = sizeof *result;
}

dimple_status dimple_request_get_result(const dimple_request* request, dimple_result* result) {
    return api_call([&] {
        require(request != nullptr, "the request is NULL");
        const Engine& engine = request->model->engine;
        const GenerateResult& res = request->state->result();
        std::vector<int64_t> answer = request->state->answer();
        // Unfinished: what is final so far, the committed tokens before the first mask.
        if (!request->state->finished())
            answer.erase(std::find(answer.begin(), answer.end(), engine.config().ids.mask), answer.end());
        if (request->text.empty() && engine.has_tokenizer()) request->text = engine.answer_text(answer);
        dimple_result r{};
        r.text = request->text.c_str();
        r.answer = request->answer.data();
        r.answer_len = request->answer.size();
        r.answer_tokens = engine.answer_length(answer);
        r.prompt_tokens = request->state->prompt_len();
        r.steps = res.steps_run;
        r.finished = request->state->finished();
        r.prompt_seconds = request->prompt_seconds;
        r.decode_seconds = std::accumulate(res.step_seconds.begin(), res.step_seconds.end(), 0.0);
        r.step_seconds = res.step_seconds.data();
        write_sized(result, r, "dimple_result");
    });
}

}  // extern "C"
