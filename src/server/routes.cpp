#include "server/routes.h"

#include "server/chat_completion.h"
#include "server/response_format.h"
#include "server/web_assets.h"

namespace dimple::server {

namespace {

constexpr std::string_view kChat = "/v1/chat/completions";

bool is_get_route(std::string_view path) {
    return path == "/" || path == "/health" || path == "/v1/models" || path == "/metrics";
}

bool authorized(const http::HttpRequest& req, const std::string& key) {
    const std::string expected = "Bearer " + key;
    const std::string_view got = req.header("Authorization");
    // Constant-time comparison: the time taken says nothing about how much of a guess was right.
    unsigned char diff = got.size() != expected.size();
    for (size_t i = 0; i < expected.size(); ++i) diff |= (i < got.size() ? got[i] : 0) ^ expected[i];
    return diff == 0;
}

// Everything the head alone decides, before a byte of the body is read.
std::optional<http::HttpResponse> check_head(const http::HttpRequest& req, bool& keep_body, const ServerContext& ctx) {
    const std::string& key = ctx.options.api_key;
    const bool get = req.method == "GET" || req.method == "HEAD";
    // The page holds no data and must load in a browser, which cannot send a bearer token.
    const bool open = req.path == "/health" || (req.path == "/" && get);
    if (!key.empty() && !open && !authorized(req, key)) {
        http::HttpResponse r = error_response(ApiError(
            401, "a valid API key is needed: send the header 'Authorization: Bearer KEY'", "", "invalid_api_key"));
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    const bool chat = req.path == kChat;
    if (!chat && !is_get_route(req.path))
        return error_response(ApiError(404, "no route " + req.method + " " + req.path, "", "not_found"));
    if (chat ? req.method != "POST" : !get) {
        const std::string allowed = chat ? "POST" : "GET, HEAD";
        http::HttpResponse r = error_response(ApiError(
            405, "method " + req.method + " is not allowed on " + req.path + " (use " + allowed + ")", "",
            "method_not_allowed"));
        r.headers.emplace_back("Allow", allowed);
        return r;
    }
    const std::string_view expect = req.header("Expect");
    if (!expect.empty() && expect != "100-continue" && expect != "100-Continue")
        return error_response(ApiError(417, "the expectation '" + std::string(expect) + "' is not supported", "",
                                       "expectation_failed"));
    keep_body = chat;  // other routes' bodies are read and dropped
    return std::nullopt;
}

void answer(http::HttpRequest req, std::shared_ptr<http::Exchange> ex, ServerContext& ctx) {
    if (req.path == kChat) return handle_chat_completion(std::move(req), std::move(ex), ctx);
    http::HttpResponse r;
    if (req.path == "/") {
        r.content_type = "text/html; charset=utf-8";
        r.body = std::string(index_html());
    } else if (req.path == "/health") {
        r = json_response(200, {{"status", "ok"}});
    } else if (req.path == "/v1/models") {
        r = json_response(200, models_json(ctx.parse.model_id, ctx.created));
    } else {
        r.content_type = "text/plain; version=0.0.4";
        r.body = ctx.metrics.render(ctx.scheduler.queued(), ctx.scheduler.active(),
                                    {ctx.budget.used(), ctx.budget.peak(), ctx.budget.capacity()});
    }
    ex->respond(std::move(r));
}

}  // namespace

http::Handlers route_handlers(ServerContext& ctx) {
    http::Handlers h;
    h.on_head = [&ctx](const http::HttpRequest& req, bool& keep_body) { return check_head(req, keep_body, ctx); };
    h.on_request = [&ctx](http::HttpRequest req, std::shared_ptr<http::Exchange> ex) {
        answer(std::move(req), std::move(ex), ctx);
    };
    h.on_error = [](int status, const std::string& message, const std::string& code) {
        // The front's limits are the server's flags: say which.
        const char* flag = status == 413 ? " (--max-body-bytes)" : status == 431 ? " (--max-header-bytes)"
                           : status == 408 ? " (--request-timeout)" : "";
        return error_response(ApiError(status, message + flag, "", code, status >= 500 ? "server_error" : "invalid_request_error"));
    };
    h.on_response = [&ctx](int status) { ctx.metrics.count_response(status); };
    return h;
}

}  // namespace dimple::server
