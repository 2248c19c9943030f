// `dimple serve`: an OpenAI-compatible HTTP server over one loaded model (routes.h lists the
// routes). The HTTP front (http/http_server.h) runs every connection on one I/O thread; chat
// requests are parsed and prepared on worker threads; decoding runs on the scheduler's one thread,
// all active requests sharing each step's forward pass. Every request's memory is reserved from one
// budget (memory_budget.h) before it is used.
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
    uint64_t memory_limit = 0;  // bytes the whole process may use (--memory-limit); 0: what was available at start
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
    // One line on the memory: the limit, what the model and the server hold, what requests may.
    std::string memory_report() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dimple::server
