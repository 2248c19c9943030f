#include "server/response_format.h"

namespace dimple::server {

json error_json(const ApiError& e) {
    return {{"error",
             {{"message", e.what()},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

json usage_json(const Outcome& o) {
    return {{"prompt_tokens", o.prompt_tokens},
            {"completion_tokens", o.completion_tokens},
            {"total_tokens", o.prompt_tokens + o.completion_tokens}};
}

json completion_json(const ResponseIds& r, const Outcome& o) {
    return {{"id", r.id},
            {"object", "chat.completion"},
            {"created", r.created},
            {"model", r.model},
            {"choices",
             json::array({{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", o.text}}},
                           {"logprobs", nullptr},
                           {"finish_reason", o.finish_reason}}})},
            {"usage", usage_json(o)},
            {"dimple", {{"steps", o.steps}}}};
}

json chunk_json(const ResponseIds& r, json delta, const std::string& finish_reason) {
    return {{"id", r.id},
            {"object", "chat.completion.chunk"},
            {"created", r.created},
            {"model", r.model},
            {"choices", json::array({{{"index", 0},
                                      {"delta", std::move(delta)},
                                      {"logprobs", nullptr},
                                      {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}})}};
}

json usage_chunk_json(const ResponseIds& r, const Outcome& o) {
    return {{"id", r.id},
            {"object", "chat.completion.chunk"},
            {"created", r.created},
            {"model", r.model},
            {"choices", json::array()},
            {"usage", usage_json(o)}};
}

json canvas_json(const JobEvent& e, int max_steps, const text::Tokenizer& tok, const SpecialIds& ids) {
    json canvas = json::array();
    for (int64_t id : e.answer) {
        if (id == ids.mask) {
            canvas.push_back(nullptr);
            continue;
        }
        const int32_t one = int32_t(id);
        const bool special = tok.is_special(one) || id == ids.eos || id == ids.pad;
        const std::string text = tok.token_text(one).empty() ? std::string() : tok.decode({&one, 1});
        canvas.push_back({{"id", id}, {"text", text}, {"special", special}});
    }
    return {{"step", e.step},
            {"max_steps", max_steps},
            {"canvas", std::move(canvas)},
            {"committed", e.committed},
            {"masks", e.masks},
            {"elapsed_ms", e.elapsed_ms}};
}

json models_json(const std::string& model_id, int64_t created) {
    return {{"object", "list"},
            {"data", json::array({{{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "dimple"}}})}};
}

}  // namespace dimple::server
