// From a parsed request to the scheduler's input, with the checks that need the model: the chat
// template and tokenizer, the prompt's length with its image tokens, the structure priors, and the
// decoding options against the model's positions. Problems are ApiErrors (400).
#pragma once

#include "server/chat_request.h"
#include "server/job.h"
#include "server/server_context.h"

namespace dimple::server {

JobInput prepare_job(ChatRequest&& request, const ServerContext& ctx);

}  // namespace dimple::server
