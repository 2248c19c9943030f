// What the route handlers share: the model, the options, the scheduler and the metrics.
#pragma once

#include "engine/engine.h"
#include "io/config.h"
#include "server/metrics.h"
#include "server/request_parse.h"
#include "server/scheduler.h"
#include "server/server.h"

namespace dimple::server {

struct ServerContext {
    const Engine& engine;
    const ServerOptions& options;
    ParseContext parse;
    PreprocessorConfig preprocessor;
    Metrics& metrics;
    Scheduler& scheduler;
    int64_t created = 0;  // unix time the server started (the model's "created")
};

}  // namespace dimple::server
