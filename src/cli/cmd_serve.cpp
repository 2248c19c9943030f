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

    const std::string dir = model_dir(o.model);
    // One request at the server's limits; the scheduler batches within --memory-limit.
    const server::Limits& l = o.server.limits;
    o.model.limits = {l.max_prompt_tokens, l.max_tokens, l.max_images};
    const EngineOptions eo = engine_options(o.model);
    const Engine engine(dir, eo);
    o.server.model_dir = dir;
    o.server.memory_limit = eo.memory_limit;
    o.server.model_id = std::filesystem::path(dir).lexically_normal().filename().string();
    if (o.server.model_id.empty()) o.server.model_id = std::filesystem::path(dir).parent_path().filename().string();
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

void add_serve_command(Command& program) {
    auto o = std::make_shared<Options>();
    server::ServerOptions& s = o->server;
    server::Limits& l = s.limits;
    Command& cmd = program.subcommand("serve", "OpenAI-compatible HTTP server with a web page (see README, Server)");
    add_model_options(cmd, o->model, true);
    cmd.option("--host", s.host, "Address to listen on").show_default();
    cmd.option("--port", s.port, "Port (0: any free port, printed at start)").show_default();
    cmd.option("--api-key", s.api_key, "Require 'Authorization: Bearer KEY' (all routes but /health and /)");
    cmd.option("--max-body-bytes", l.max_body_bytes, "Largest request body (413 beyond)").show_default();
    cmd.option("--max-images", l.max_images, "Images per request").show_default();
    cmd.option("--max-image-pixels", l.max_image_pixels, "Pixels per image (width x height)").show_default();
    cmd.option("--max-prompt-tokens", l.max_prompt_tokens, "Prompt tokens, image tokens included").show_default();
    cmd.option("--max-tokens-limit", l.max_tokens, "Largest max_tokens a request may ask").show_default();
    cmd.option("--max-steps-limit", l.max_steps, "Largest steps a request may ask").show_default();
    cmd.option("--queue-size", l.queue_size, "Requests waiting for the batch (429 beyond)").show_default();
    cmd.option("--max-batch", l.max_batch, "Requests decoded together, one forward pass per step").show_default();
    cmd.option("--time-limit", l.time_limit_s, "Seconds a request may take, queueing included (504 beyond)")
        .show_default();
    cmd.option("--max-connections", l.max_connections, "Connections open at once (503 beyond)").show_default();
    cmd.option("--max-header-bytes", l.max_header_bytes, "Request line and headers (431 beyond)").show_default();
    cmd.option("--request-timeout", l.request_timeout_s, "Seconds from a request's first byte to its last (408 beyond)")
        .show_default();
    cmd.option("--idle-timeout", l.idle_timeout_s, "Seconds a connection may go without a byte read or written")
        .show_default();
    cmd.on_run([o] { serve(*o); });
}

}  // namespace dimple::cli
