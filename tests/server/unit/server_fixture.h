// What the server tests share: the fixture model (a tiny Dimple with the real Qwen tokenizer,
// loaded once per process in f32), a server on an ephemeral loopback port, and response helpers.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "server/server.h"

namespace stest {

using nlohmann::json;

std::string fixture_dir();
const dimple::Engine& engine();
std::string photo_data_url();  // the fixture's PNG as a data: URL
dimple::Image photo();

class TestServer {
public:
    explicit TestServer(dimple::server::Limits limits = {}, std::string api_key = {});
    ~TestServer();
    int port() const { return port_; }
    httplib::Client client() const;
    // POST /v1/chat/completions with a JSON body.
    httplib::Result chat(const json& body, const httplib::Headers& headers = {}) const;
    // A metric's value from GET /metrics (a line "name value"), -1 when absent.
    // One scrape of /metrics: the unlabelled samples by name (a step's counters change together).
    std::map<std::string, double> metrics() const;
    double metric(const std::string& name) const;

private:
    std::unique_ptr<dimple::server::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

// The data: lines of a text/event-stream body as JSON, and whether [DONE] ended it.
struct Sse {
    std::vector<json> events;
    bool done = false;
};
Sse parse_sse(const std::string& body);
// The concatenated choices[0].delta.content of the events.
std::string streamed_text(const Sse& s);

}  // namespace stest
