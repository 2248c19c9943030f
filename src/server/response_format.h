// The JSON the server sends: OpenAI's chat.completion, chat.completion.chunk, model list and error
// objects, and the `dimple` canvas extension of a streamed chunk (see README, Server).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/config.h"
#include "server/api_error.h"
#include "server/job.h"
#include "text/tokenizer.h"

namespace dimple::server {

using nlohmann::json;

// What every response of one request shares.
struct ResponseIds {
    std::string id;     // "chatcmpl-..."
    int64_t created = 0;  // unix seconds
    std::string model;
};

json error_json(const ApiError& e);
json usage_json(const Outcome& o);
json completion_json(const ResponseIds& r, const Outcome& o);
// A chunk with one choice: `delta` and finish_reason (null unless given).
json chunk_json(const ResponseIds& r, json delta, const std::string& finish_reason = {});
// The final usage chunk (no choices) of stream_options.include_usage.
json usage_chunk_json(const ResponseIds& r, const Outcome& o);
// The extension field of a step: the canvas with masks as null, committed positions, masks left.
json canvas_json(const JobEvent& e, int max_steps, const text::Tokenizer& tok, const SpecialIds& ids);
json models_json(const std::string& model_id, int64_t created);

// Server-sent events: one `data:` line per message, then `data: [DONE]`.
inline std::string sse(const json& j) { return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n"; }
inline std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace dimple::server
