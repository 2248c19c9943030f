// The C API's models: loading, facts, text, and one pass of the model alone (include/dimple.h).
#include <algorithm>

#include "api/api_call.h"
#include "api/handles.h"
#include "core/error.h"
#include "core/threads.h"
#include "kernels/matmul.h"

using namespace dimple;
using namespace dimple::api;

namespace dimple::api {

std::vector<text::ChatMessage> chat_messages(const dimple_message* messages, size_t n) {
    require(n > 0 && messages != nullptr, "no messages");
    std::vector<text::ChatMessage> out;
    for (size_t i = 0; i < n; ++i) {
        const dimple_message& m = messages[i];
        const std::string role = m.role ? m.role : "";
        check(role == "system" || role == "user" || role == "assistant", "message ", i, ": role '", role,
              "' (expected system, user or assistant)");
        require(m.n_images == 0 || m.images != nullptr, "message " + std::to_string(i) + ": images is NULL");
        out.push_back({role, m.text ? m.text : "", int(m.n_images)});
    }
    return out;
}

std::vector<int64_t> checked_ids(const dimple_model& m, const dimple_token* ids, size_t n) {
    require(n > 0 && ids != nullptr, "no ids");
    const int32_t vocab = m.engine.config().vocab_size;
    std::vector<int64_t> out(ids, ids + n);
    for (size_t i = 0; i < n; ++i)
        check(ids[i] >= 0 && ids[i] < vocab, "id ", ids[i], " at ", i, " is outside the vocabulary (0..", vocab - 1, ")");
    return out;
}

}  // namespace dimple::api

namespace {

dimple_token id_or_none(int64_t id) { return id < 0 ? -1 : dimple_token(id); }

}  // namespace

extern "C" {

int dimple_api_version(void) { return DIMPLE_API_VERSION; }
const char* dimple_version(void) { return DIMPLE_VERSION_STRING; }

const char* dimple_status_name(dimple_status s) {
    switch (s) {
        case DIMPLE_OK: return "ok";
        case DIMPLE_ERROR_INVALID_ARGUMENT: return "invalid argument";
        case DIMPLE_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
        case DIMPLE_ERROR_REFUSED: return "refused";
        case DIMPLE_ERROR_CANCELLED: return "cancelled";
        case DIMPLE_ERROR_OUT_OF_MEMORY: return "out of memory";
        case DIMPLE_ERROR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void dimple_set_threads(int threads) { set_num_threads(std::max(threads, 0)); }

void dimple_model_options_init(dimple_model_options* o) {
    if (!o) return;
    const RequestLimits limits;
    *o = {};
    o->size = sizeof *o;
    o->compute = "auto";
    o->max_prompt_tokens = limits.prompt_tokens;
    o->max_answer_tokens = limits.answer_tokens;
    o->max_images = limits.images;
}

dimple_status dimple_model_load(const char* path, const dimple_model_options* options, dimple_model** model) {
    return api_call([&] {
        require(model != nullptr, "the model pointer is NULL");
        *model = nullptr;
        require(path != nullptr && *path, "no model folder given");
        const dimple_model_options o = read_sized(options, dimple_model_options_init, "dimple_model_options");
        EngineOptions e;
        e.compute = parse_compute(o.compute ? o.compute : "auto");
        e.chat_template = o.chat_template ? o.chat_template : "";
        e.memory_limit = o.memory_limit;
        e.limits = {o.max_prompt_tokens, o.max_answer_tokens, o.max_images};
        e.announce_plan = false;
        auto m = std::make_unique<dimple_model>(path, e);
        m->family = architecture_name(m->engine.config().arch);
        m->compute = compute_name(m->engine.language_model().compute());
        m->compute_reason = m->engine.compute_plan().reason;
        *model = m.release();
    });
}

void dimple_model_free(dimple_model* model) { delete model; }

void dimple_model_info_init(dimple_model_info* info) {
    if (!info) return;
    *info = {};
    info->size = sizeof *info;
}

dimple_status dimple_model_get_info(const dimple_model* model, dimple_model_info* info) {
    return api_call([&] {
        require(model != nullptr, "the model is NULL");
        const ModelConfig& c = model->engine.config();
        dimple_model_info i{};
        i.family = model->family.c_str();
        i.compute = model->compute.c_str();
        i.compute_reason = model->compute_reason.c_str();
        i.vocab_size = c.vocab_size;
        i.hidden_size = c.hidden_size;
        i.num_layers = c.num_layers;
        i.max_positions = c.max_positions;
        i.has_vision = model->engine.has_vision();
        i.has_tokenizer = model->engine.has_tokenizer();
        i.pad_id = id_or_none(c.ids.pad);
        i.bos_id = id_or_none(c.ids.bos);
        i.eos_id = id_or_none(c.ids.eos);
        i.mask_id = id_or_none(c.ids.mask);
        i.image_id = id_or_none(c.ids.image);
        write_sized(info, i, "dimple_model_info");
    });
}

dimple_status dimple_tokenize(const dimple_model* model, const char* text, dimple_token* ids, size_t capacity,
                              size_t* count) {
    return api_call([&] {
        require(model != nullptr && text != nullptr, "the model or the text is NULL");
        const std::vector<int32_t> out = model->engine.tokenizer().encode(text);
        copy_out(out.data(), out.size(), ids, capacity, count, "ids");
    });
}

dimple_status dimple_detokenize(const dimple_model* model, const dimple_token* ids, size_t n_ids, int skip_special,
                                char* text, size_t capacity, size_t* length) {
    return api_call([&] {
        require(model != nullptr && (n_ids == 0 || ids != nullptr), "the model or the ids are NULL");
        copy_text(model->engine.tokenizer().decode({ids, n_ids}, skip_special != 0), text, capacity, length);
    });
}

dimple_status dimple_apply_chat_template(const dimple_model* model, const dimple_message* messages, size_t n_messages,
                                         char* text, size_t capacity, size_t* length) {
    return api_call([&] {
        require(model != nullptr, "the model is NULL");
        copy_text(model->engine.chat_text(chat_messages(messages, n_messages)), text, capacity, length);
    });
}

dimple_status dimple_forward(dimple_model* model, const dimple_token* ids, size_t n_ids, float* logits,
                             size_t capacity, size_t* count) {
    return api_call([&] {
        require(model != nullptr, "the model is NULL");
        const std::vector<int64_t> prompt_ids = checked_ids(*model, ids, n_ids);
        const size_t needed = n_ids * size_t(model->engine.config().vocab_size);
        require(count != nullptr, "the logits count pointer is NULL");
        *count = needed;
        if (capacity < needed)  // said before the pass, not after
            throw ApiError(DIMPLE_ERROR_BUFFER_TOO_SMALL, "the logits need " + std::to_string(needed) +
                                                              " floats, the buffer holds " + std::to_string(capacity));
        const std::lock_guard lock(model->running);
        const Tensor out = model->engine.logits(model->engine.prompt(prompt_ids, {}));
        copy_out(out.data<float>(), size_t(out.numel()), logits, capacity, count, "logits");
    });
}

}  // extern "C"
