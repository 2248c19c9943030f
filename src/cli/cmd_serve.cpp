// `dimple serve`: the OpenAI-compatible HTTP server (src/server) over one model. SIGINT/SIGTERM
// stop it: requests in flight end with 503 and the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/threads.h"
#include "server/server.h"

namespace dimple::cli {

namespace {

struct Options {
    ModelOptions model;
    server::ServerOptions server;
};

void serve(Options o) {
    set_num_threads(o.model.threads);
    // Signals go to one waiting thread, not to whichever thread happens to run.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that went away is noticed by the write that fails

    const EngineOptions eo = engine_options(o.model);
    const Engine engine(o.model.dir, eo);
    o.server.model_dir = o.model.dir;
    o.server.memory_limit = eo.memory_limit;
    o.server.model_id = std::filesystem::path(o.model.dir).lexically_normal().filename().string();
    if (o.server.model_id.empty()) o.server.model_id = std::filesystem::path(o.model.dir).parent_path().filename().string();
    server::Server server(engine, o.server);
    const int port = server.bind();

    std::thread waiter([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::fprintf(stderr, "stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        server.stop();
    });
    std::fprintf(stderr, "serving %s (%s compute) on http://%s:%d\n", o.server.model_id.c_str(),
                 compute_name(engine.language_model().compute()).c_str(), o.server.host.c_str(), port);
    std::fprintf(stderr, "%s\n", server.memory_report().c_str());
    std::fprintf(stderr, "listening on http://%s:%d\n", o.server.host.c_str(), port);
    server.run();
    pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if it still waits (no-op otherwise)
    waiter.join();
}

}  // namespace

void add_serve_command(CLI::App& app) {
    auto o = std::make_shared<Options>();
    server::ServerOptions& s = o->server;
    server::Limits& l = s.limits;
    CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with a web page (see README, Server)");
    add_model_options(cmd, o->model);
    cmd->add_option("--host", s.host, "Address to listen on")->capture_default_str();
    cmd->add_option("--port", s.port, "Port (0: any free port, printed at start)")->capture_default_str();
    cmd->add_option("--api-key", s.api_key, "Require 'Authorization: Bearer KEY' (all routes but /health and /)");
    cmd->add_option("--max-body-bytes", l.max_body_bytes, "Largest request body (413 beyond)")->capture_default_str();
    cmd->add_option("--max-images", l.max_images, "Images per request")->capture_default_str();
    cmd->add_option("--max-image-pixels", l.max_image_pixels, "Pixels per image (width x height)")->capture_default_str();
    cmd->add_option("--max-prompt-tokens", l.max_prompt_tokens, "Prompt tokens, image tokens included")->capture_default_str();
    cmd->add_option("--max-tokens-limit", l.max_tokens, "Largest max_tokens a request may ask")->capture_default_str();
    cmd->add_option("--max-steps-limit", l.max_steps, "Largest steps a request may ask")->capture_default_str();
    cmd->add_option("--queue-size", l.queue_size, "Requests waiting for the batch (429 beyond)")->capture_default_str();
    cmd->add_option("--max-batch", l.max_batch, "Requests decoded together, one forward pass per step")->capture_default_str();
    cmd->add_option("--time-limit", l.time_limit_s, "Seconds a request may take, queueing included (504 beyond)")
        ->capture_default_str();
    cmd->add_option("--max-connections", l.max_connections, "Connections open at once (503 beyond)")->capture_default_str();
    cmd->add_option("--max-header-bytes", l.max_header_bytes, "Request line and headers (431 beyond)")->capture_default_str();
    cmd->add_option("--request-timeout", l.request_timeout_s, "Seconds from a request's first byte to its last (408 beyond)")
        ->capture_default_str();
    cmd->add_option("--idle-timeout", l.idle_timeout_s, "Seconds a connection may go without a byte read or written")
        ->capture_default_str();
    cmd->callback([o] { serve(*o); });
}

}  // namespace dimple::cli
