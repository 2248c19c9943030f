// The HTTP routes of `dimple serve`:
//   GET  /                     the web page (web_assets.h)
//   GET  /health               {"status":"ok"}, never behind the api key
//   GET  /v1/models            the one model, in OpenAI's list format
//   GET  /metrics              Prometheus text (metrics.h)
//   POST /v1/chat/completions  chat_completion.h
// and OpenAI-style errors for everything else: 401 (api key), 404 (route), 405 (method), 413 (body).
#pragma once

#include <httplib.h>

#include "server/server_context.h"

namespace dimple::server {

void add_routes(httplib::Server& http, ServerContext& ctx);

}  // namespace dimple::server
