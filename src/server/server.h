// `dimple serve`: an OpenAI-compatible HTTP server over one loaded model (routes.h lists the
// routes). Requests are parsed and checked on the HTTP threads; decoding runs on the scheduler's
// one thread, all active requests sharing each step's forward pass.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "server/limits.h"

namespace dimple::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;      // 0: an ephemeral port (see bind())
    std::string api_key;  // when set, every route but /health and the page needs "Authorization: Bearer KEY"
    std::string model_dir;
    std::string model_id;  // the name clients use: the model folder's base name
    Limits limits;
};

class Server {
public:
    Server(const Engine& engine, const ServerOptions& options);
    ~Server();

    // Binds the listening socket; returns the port (the one chosen when options.port is 0).
    int bind();
    // Serves until stop() (from another thread or a signal handler's thread).
    void run();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dimple::server
