// POST /v1/chat/completions: parse, prepare, queue, then answer once decoding ends, or stream it
// as server-sent events (text as it becomes final, and with stream_canvas the whole canvas after
// every step). A client that goes away cancels its request.
#pragma once

#include <httplib.h>

#include "server/server_context.h"

namespace dimple::server {

void handle_chat_completion(const httplib::Request& req, httplib::Response& res, ServerContext& ctx);

// Sets an OpenAI-style error response (with Retry-After for 429 and 503).
void send_error(httplib::Response& res, const ApiError& e);

}  // namespace dimple::server
