#include "server/server.h"

#include <malloc.h>

#include <algorithm>
#include <ctime>

#include "core/block_cache.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/threads.h"
#include "server/http/http_server.h"
#include "server/routes.h"

namespace dimple::server {

namespace {

constexpr uint64_t kMiB = uint64_t(1) << 20;
constexpr int kWorkers = 2;  // parsing threads: requests parsed at once

// What the server holds whatever its requests: what is resident once the model is loaded, the
// connections' buffers, the threads' scratch, the caches the engine keeps between steps, and the
// allocator's slack. The rest of the limit is the requests' budget.
struct MemoryPlan {
    uint64_t limit = 0;
    std::string source;
    uint64_t resident = 0, fixed = 0, requests = 0;
};

MemoryPlan plan_memory(const ServerOptions& o, const Engine& engine) {
    MemoryPlan p;
    p.resident = resident_bytes();
    if (o.memory_limit) {
        p.limit = o.memory_limit;
        p.source = "--memory-limit";
    } else {
        const AvailableMemory a = available_memory();
        p.limit = p.resident + a.bytes;
        p.source = "what was available at start (" + a.source + ")";
    }
    const Limits& l = o.limits;
    const uint64_t threads = uint64_t(num_threads() + kWorkers + 2);
    const uint64_t vocab = uint64_t(engine.config().vocab_size);
    // A connection: its input buffer (a head and one read), its state and a small response.
    const uint64_t connections = uint64_t(l.max_connections) * (l.max_header_bytes + 3 * (64 << 10));
    // A thread: the sampler's vocabulary-wide buffers, the tokenizer's kept buffers, its stack.
    const uint64_t per_thread = threads * (24 * vocab + 4 * kMiB);
    // oneDNN's compiled primitives (128 kept, a few hundred KiB each), the tokenizer's piece cache.
    const uint64_t caches = 64 * kMiB + 16 * kMiB;
    // Freed step buffers kept for the next step: what the engine planned for its largest request
    // (model/memory_plan.h), within an eighth of what the limit leaves.
    const uint64_t room = p.limit > p.resident ? p.limit - p.resident : 0;
    block_cache::set_max_bytes(std::min<uint64_t>(block_cache::max_bytes(), room / 8));
    p.fixed = connections + per_thread + caches + block_cache::max_bytes() + 32 * kMiB;
    check(room > p.fixed + 16 * kMiB, "dimple serve: the memory limit (", human_bytes(double(p.limit)), ", ", p.source,
          ") leaves nothing for requests: the model holds ", human_bytes(double(p.resident)),
          " and the server needs ", human_bytes(double(p.fixed)), " for ", l.max_connections,
          " connections, its threads and caches (raise --memory-limit, or lower --max-connections)");
    p.requests = room - p.fixed;
    return p;
}

}  // namespace

struct Server::Impl {
    const Engine& engine;
    ServerOptions options;
    MemoryPlan plan;
    MemoryBudget budget;
    Metrics metrics;
    Scheduler scheduler;
    ServerContext ctx;
    Workers workers;  // after ctx: their tasks use it, so they are joined first
    http::HttpServer http;
    int port = -1;

    Impl(const Engine& e, const ServerOptions& o)
        : engine(e), options(o), plan(plan_memory(o, e)), budget(plan.requests), scheduler(e, o.limits, metrics),
          ctx{e, options, {o.model_id, o.limits, {}, {}, e.family().decoding, e.family().speeds}, load_preprocessor_config(o.model_dir), metrics, scheduler, budget,
              workers, int64_t(std::time(nullptr))},
          workers(kWorkers), http(http_limits(o.limits), route_handlers(ctx), budget) {}

    static http::ServerLimits http_limits(const Limits& l) {
        http::ServerLimits h;
        h.reader = {l.max_header_bytes, kMaxHeaderFields, l.max_body_bytes};
        h.max_connections = l.max_connections;
        h.request_timeout_s = l.request_timeout_s;
        h.idle_timeout_s = l.idle_timeout_s;
        h.max_unsent_bytes = kMaxUnsentBytes;
        return h;
    }
};

Server::Server(const Engine& engine, const ServerOptions& options) {
    check(engine.has_tokenizer(), "dimple serve needs a model folder with a tokenizer (tokenizer.json or vocab.json)");
    const Limits& l = options.limits;
    check(l.max_batch >= 1 && l.queue_size >= 0 && l.max_tokens >= 1 && l.max_steps >= 1 && l.max_images >= 0 &&
              l.max_image_pixels >= 1 && l.max_prompt_tokens >= 1 && l.max_body_bytes >= 1 && l.time_limit_s > 0 &&
              l.max_connections >= 1 && l.max_header_bytes >= 256 && l.request_timeout_s > 0 && l.idle_timeout_s > 0,
          "server limits must be positive (and --max-header-bytes at least 256)");
    // Buffers of 256 KiB and more are mapped for themselves and unmapped when freed: glibc's
    // adaptive threshold otherwise serves them from its heaps after a large free, where a request's
    // parse or prompt left memory the process kept.
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    impl_ = std::make_unique<Impl>(engine, options);
}

Server::~Server() { stop(); }

int Server::bind() {
    const ServerOptions& o = impl_->options;
    impl_->port = impl_->http.bind(o.host, o.port);
    return impl_->port;
}

void Server::run() {
    if (impl_->port < 0) bind();
    impl_->http.run();
}

// The scheduler first: it fails what is queued or running (503), and the HTTP front's run() returns
// once those answers are sent.
void Server::stop() {
    impl_->scheduler.stop();
    impl_->http.stop();
}

std::string Server::memory_report() const {
    const MemoryPlan& p = impl_->plan;
    return "memory: at most " + human_bytes(double(p.limit)) + " (" + p.source + "): the model and server " +
           human_bytes(double(p.resident)) + " at start, connections, threads and caches " +
           human_bytes(double(p.fixed)) + ", requests " + human_bytes(double(p.requests));
}

}  // namespace dimple::server
