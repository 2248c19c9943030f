// POST /v1/chat/completions. On a worker thread the body is inflated, parsed and prepared, each
// stage's memory reserved first (memory_budget.h); the job is queued, and its answer is sent when
// decoding ends, or streamed as server-sent events (text as it becomes final, and with
// stream_canvas the whole canvas after every step), from the HTTP front's I/O thread. A client
// that goes away cancels its request.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "server/http/http_server.h"
#include "server/server_context.h"

namespace dimple::server {

void handle_chat_completion(http::HttpRequest req, std::shared_ptr<http::Exchange> exchange, ServerContext& ctx);

// An OpenAI-style error response (with Retry-After for 429 and 503).
http::HttpResponse error_response(const ApiError& e);
http::HttpResponse json_response(int status, const nlohmann::json& j);

}  // namespace dimple::server
