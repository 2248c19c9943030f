#include "server/server.h"

#include <httplib.h>

#include <ctime>

#include "core/error.h"
#include "server/routes.h"

namespace dimple::server {

struct Server::Impl {
    const Engine& engine;
    ServerOptions options;
    Metrics metrics;
    Scheduler scheduler;
    ServerContext ctx;
    httplib::Server http;
    int port = -1;

    Impl(const Engine& e, const ServerOptions& o)
        : engine(e), options(o), scheduler(e, o.limits, metrics),
          ctx{e, options, {o.model_id, o.limits}, load_preprocessor_config(o.model_dir), metrics, scheduler,
              int64_t(std::time(nullptr))} {}
};

Server::Server(const Engine& engine, const ServerOptions& options) {
    check(engine.has_tokenizer(), "dimple serve needs a model folder with a tokenizer (tokenizer.json or vocab.json)");
    const Limits& l = options.limits;
    check(l.max_batch >= 1 && l.queue_size >= 0 && l.max_tokens >= 1 && l.max_steps >= 1 && l.max_images >= 0 &&
              l.max_image_pixels >= 1 && l.max_prompt_tokens >= 1 && l.max_body_bytes >= 1 && l.time_limit_s > 0,
          "server limits must be positive");
    impl_ = std::make_unique<Impl>(engine, options);
    httplib::Server& http = impl_->http;
    // Every waiting or streaming request holds an HTTP thread, so there are enough for a full queue
    // and a full batch, plus a few for /health and /metrics.
    const size_t threads = size_t(l.queue_size + l.max_batch + 8);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(l.max_body_bytes);
    add_routes(http, impl_->ctx);
}

Server::~Server() { stop(); }

int Server::bind() {
    const ServerOptions& o = impl_->options;
    impl_->port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
    check(impl_->port > 0, "cannot listen on ", o.host, ":", o.port, " (in use, or not an address of this machine)");
    return impl_->port;
}

void Server::run() {
    if (impl_->port < 0) bind();
    impl_->http.listen_after_bind();
}

// The scheduler first: it fails what is queued or running (503), which lets the handlers waiting
// on those requests return, and httplib's listen only returns once its handlers have.
void Server::stop() {
    impl_->scheduler.stop();
    impl_->http.stop();
}

}  // namespace dimple::server
