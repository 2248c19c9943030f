#include "server_fixture.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "vision/image.h"

namespace stest {

std::string fixture_dir() {
    const char* env = std::getenv("DIMPLE_SERVER_FIXTURE_DIR");
    return env && *env ? env : DIMPLE_SERVER_FIXTURE_DIR;
}

const dimple::Engine& engine() {
    static const dimple::Engine e(fixture_dir() + "/model", {dimple::Compute::F32, "", 0, {}});
    return e;
}

std::string photo_data_url() {
    std::ifstream f(fixture_dir() + "/photo.png", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        if (i + 2 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 2]));
        b64 += alphabet[(v >> 18) & 63];
        b64 += alphabet[(v >> 12) & 63];
        b64 += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
        b64 += i + 2 < bytes.size() ? alphabet[v & 63] : '=';
    }
    return "data:image/png;base64," + b64;
}

dimple::Image photo() { return dimple::load_image(fixture_dir() + "/photo.png"); }

TestServer::TestServer(dimple::server::Limits limits, std::string api_key, uint64_t memory_limit) {
    dimple::server::ServerOptions o;
    o.port = 0;
    o.model_dir = fixture_dir() + "/model";
    o.model_id = "model";
    o.api_key = std::move(api_key);
    o.memory_limit = memory_limit;
    o.limits = limits;
    start(engine(), o);
}

TestServer::TestServer(const dimple::Engine& engine, const std::string& model_dir) {
    dimple::server::ServerOptions o;
    o.port = 0;
    o.model_dir = model_dir;
    o.model_id = std::filesystem::path(model_dir).filename().string();
    start(engine, o);
}

void TestServer::start(const dimple::Engine& engine, const dimple::server::ServerOptions& options) {
    server_ = std::make_unique<dimple::server::Server>(engine, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
}

TestServer::~TestServer() {
    server_->stop();
    thread_.join();
}

Client TestServer::client() const {
    Client c("127.0.0.1", port_);
    c.set_read_timeout(120);
    return c;
}

Result TestServer::chat(const json& body, const Headers& headers) const {
    return client().Post("/v1/chat/completions", headers, body.dump(), "application/json");
}

std::map<std::string, double> TestServer::metrics() const {
    std::map<std::string, double> values;
    const auto r = client().Get("/metrics");
    if (!r) return values;
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
        const size_t space = line.find(' ');
        if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
        values[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return values;
}

double TestServer::metric(const std::string& name) const {
    const auto values = metrics();
    const auto it = values.find(name);
    return it == values.end() ? -1 : it->second;
}

json user_message(const std::string& text, bool with_photo) {
    json content = text;
    if (with_photo)
        content = json::array({{{"type", "image_url"}, {"image_url", {{"url", photo_data_url()}}}},
                               {{"type", "text"}, {"text", text}}});
    return json::array({{{"role", "user"}, {"content", content}}});
}

json request(const std::string& text, int max_tokens, int steps, bool with_photo) {
    // top_p 1 spares sorting the vocabulary at every position (the defaults are the parser test's).
    return {{"model", "model"}, {"messages", user_message(text, with_photo)}, {"max_tokens", max_tokens},
            {"steps", steps}, {"temperature", 0}, {"top_p", 1}};
}

std::string chat_bytes(const std::string& body, const std::string& extra_headers) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void expect_error(const Result& r, int status, const std::string& message) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(message), std::string::npos) << r->body;
    EXPECT_TRUE(j["error"].contains("type") && j["error"].contains("param") && j["error"].contains("code")) << r->body;
}

Sse parse_sse(const std::string& body) {
    Sse s;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("data: ", 0) != 0) continue;
        const std::string data = line.substr(6);
        if (data == "[DONE]")
            s.done = true;
        else
            s.events.push_back(json::parse(data));
    }
    return s;
}

std::string streamed_text(const Sse& s) {
    std::string text;
    for (const json& e : s.events)
        if (e.contains("choices") && !e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
            text += e["choices"][0]["delta"]["content"].get<std::string>();
    return text;
}

}  // namespace stest
