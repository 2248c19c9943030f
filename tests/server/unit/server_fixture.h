// What the server tests share: the fixture model (a tiny Dimple with the real Qwen tokenizer,
// loaded once per process in f32), a server on an ephemeral loopback port, and response helpers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "http_client.h"
#include "server/server.h"

namespace stest {

using nlohmann::json;

std::string fixture_dir();
const dimple::Engine& engine();
std::string photo_data_url();  // the fixture's PNG as a data: URL
dimple::Image photo();

class TestServer {
public:
    explicit TestServer(dimple::server::Limits limits = {}, std::string api_key = {}, uint64_t memory_limit = 0);
    // A server of another model, named after its folder's last part.
    TestServer(const dimple::Engine& engine, const std::string& model_dir);
    ~TestServer();
    int port() const { return port_; }
    Client client() const;
    // POST /v1/chat/completions with a JSON body.
    Result chat(const json& body, const Headers& headers = {}) const;
    // A metric's value from GET /metrics (a line "name value"), -1 when absent.
    // One scrape of /metrics: the unlabelled samples by name (a step's counters change together).
    std::map<std::string, double> metrics() const;
    double metric(const std::string& name) const;

private:
    void start(const dimple::Engine& engine, const dimple::server::ServerOptions& options);

    std::unique_ptr<dimple::server::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

// A user message (with the fixture's photo first when asked) and a request for it at temperature 0.
json user_message(const std::string& text, bool with_photo = false);
json request(const std::string& text, int max_tokens, int steps, bool with_photo = false);
// The bytes of a POST /v1/chat/completions with this body (and these extra header lines, each
// ending in \r\n), for a RawConnection.
std::string chat_bytes(const std::string& body, const std::string& extra_headers = {});
// The response is an OpenAI error object with this status and a message containing `message`.
void expect_error(const Result& r, int status, const std::string& message);

// Polls until `pred` holds or `seconds` pass.
template <class Pred>
bool eventually(Pred pred, double seconds = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// The data: lines of a text/event-stream body as JSON, and whether [DONE] ended it.
struct Sse {
    std::vector<json> events;
    bool done = false;
};
Sse parse_sse(const std::string& body);
// The concatenated choices[0].delta.content of the events.
std::string streamed_text(const Sse& s);

}  // namespace stest
