// The HTTP routes of `dimple serve`:
//   GET  /                     the web page (web_assets.h)
//   GET  /health               {"status":"ok"}, never behind the api key
//   GET  /v1/models            the one model, in OpenAI's list format
//   GET  /metrics              Prometheus text (metrics.h)
//   POST /v1/chat/completions  chat_completion.h
// (HEAD as GET, without the body) and OpenAI-style errors for everything else: 401 (api key), 404
// (route), 405 (method, with Allow), 417 (an expectation other than 100-continue), and those of
// the HTTP front (http/http_server.h).
#pragma once

#include "server/http/http_server.h"
#include "server/server_context.h"

namespace dimple::server {

http::Handlers route_handlers(ServerContext& ctx);

}  // namespace dimple::server
