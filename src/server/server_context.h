// What the route handlers share: the model, the options, the scheduler, the metrics, the memory
// budget and the worker threads.
#pragma once

#include "engine/engine.h"
#include "io/config.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/request_parse.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/workers.h"

namespace dimple::server {

struct ServerContext {
    const Engine& engine;
    const ServerOptions& options;
    ParseContext parse;
    PreprocessorConfig preprocessor;
    Metrics& metrics;
    Scheduler& scheduler;
    MemoryBudget& budget;
    Workers& workers;
    int64_t created = 0;  // unix time the server started (the model's "created")
};

}  // namespace dimple::server
