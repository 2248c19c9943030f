#include "server/routes.h"

#include "server/chat_completion.h"
#include "server/response_format.h"
#include "server/web_assets.h"

namespace dimple::server {

namespace {

void send_json(httplib::Response& res, const json& j) { res.set_content(j.dump(), "application/json"); }

// A known route asked with another method.
void allow_only(httplib::Server& http, const std::string& path, const std::string& allowed) {
    const auto refuse = [path, allowed](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", allowed);
        send_error(res, ApiError(405, "method " + req.method + " is not allowed on " + path + " (use " + allowed + ")",
                                 "", "method_not_allowed"));
    };
    if (allowed != "GET") http.Get(path, refuse);
    if (allowed != "POST") http.Post(path, refuse);
    http.Put(path, refuse);
    http.Patch(path, refuse);
    http.Delete(path, refuse);
}

bool authorized(const httplib::Request& req, const std::string& key) {
    const std::string expected = "Bearer " + key;
    const std::string got = req.get_header_value("Authorization");
    // Constant-time comparison: the time taken says nothing about how much of a guess was right.
    unsigned char diff = got.size() != expected.size();
    for (size_t i = 0; i < expected.size(); ++i) diff |= (i < got.size() ? got[i] : 0) ^ expected[i];
    return diff == 0;
}

}  // namespace

void add_routes(httplib::Server& http, ServerContext& ctx) {
    http.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
        const std::string& key = ctx.options.api_key;
        // The page holds no data and must load in a browser, which cannot send a bearer token.
        if (key.empty() || req.path == "/health" || (req.path == "/" && req.method == "GET") || authorized(req, key))
            return httplib::Server::HandlerResponse::Unhandled;
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, ApiError(401, "a valid API key is needed: send the header 'Authorization: Bearer KEY'", "",
                                 "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
    });

    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
        const std::string_view page = index_html();
        res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
    });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, {{"status", "ok"}}); });
    http.Get("/v1/models", [&ctx](const httplib::Request&, httplib::Response& res) {
        send_json(res, models_json(ctx.parse.model_id, ctx.created));
    });
    http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
        res.set_content(ctx.metrics.render(ctx.scheduler.queued(), ctx.scheduler.active()),
                        "text/plain; version=0.0.4");
    });
    http.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
        handle_chat_completion(req, res, ctx);
    });
    for (const char* path : {"/", "/health", "/v1/models", "/metrics"}) allow_only(http, path, "GET");
    allow_only(http, "/v1/chat/completions", "POST");

    // What httplib answers by itself (no route, a body over the limit, a malformed request) gets an
    // OpenAI-style body too.
    http.set_error_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 404)
            send_error(res, ApiError(404, "no route " + req.method + " " + req.path, "", "not_found"));
        else if (res.status == 413)
            send_error(res, ApiError(413, "the request body is larger than " + std::to_string(ctx.options.limits.max_body_bytes) +
                                              " bytes (--max-body-bytes)", "", "body_too_large"));
        else
            send_error(res, ApiError(res.status, "the HTTP request was malformed (status " + std::to_string(res.status) + ")",
                                     "", "bad_http_request"));
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        send_error(res, ApiError(500, "internal error: " + what, "", "internal_error", "server_error"));
    });
    http.set_logger([&ctx](const httplib::Request&, const httplib::Response& res) { ctx.metrics.count_response(res.status); });
}

}  // namespace dimple::server
