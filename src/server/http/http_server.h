// The server's HTTP/1.1 front: one I/O thread runs every connection on epoll, so a slow or idle
// client holds a few KiB, never a thread. What it enforces on every connection:
//  - a cap on open connections (beyond it a connection gets 503 and is closed);
//  - the head (request line and headers) within a byte and field limit, read and checked before
//    authentication; the body within --max-body-bytes, its memory reserved from the server's
//    budget as it is read (503 when there is no room), read only after the route and the key
//    passed (request_reader.h for the framing rules);
//  - a whole-request timeout (head and body must arrive within it: 408) and an idle timeout (no
//    byte read or written for that long, between requests or while a response is not read);
//  - pipelined requests answered in order, one at a time; a client that half-closes after its
//    request still gets the answer; one that has gone (found by a probe after its end of stream:
//    a 1xx interim response, or a comment in a stream) has its request abandoned;
//  - HTTP/1.0 clients get whole responses, streams ending with the connection instead of chunked
//    coding; HEAD is GET without the body.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/http/http_message.h"
#include "server/http/request_reader.h"
#include "server/memory_budget.h"

namespace dimple::server::http {

struct ServerLimits {
    ReaderLimits reader;
    int max_connections = 512;
    double request_timeout_s = 60;  // from a request's first byte to its last
    double idle_timeout_s = 30;     // without a byte read or written
    size_t max_unsent_bytes = 16 << 20;  // a response the client does not read: beyond, it is dropped
};

// One request's way back to its client, usable from any thread. Everything after the end of the
// exchange (answered, or the client gone) is ignored.
class Exchange {
public:
    virtual ~Exchange() = default;
    virtual void respond(HttpResponse response) = 0;
    // A response whose body follows in pieces (chunked coding, or to the end of the connection
    // for HTTP/1.0). `probe`: bytes that may be sent as a piece at any time without changing the
    // body's meaning (a comment in an event stream), to find out whether a half-closed client is
    // still there.
    virtual void begin_stream(HttpResponse head, std::string probe) = 0;
    virtual void send(std::string piece) = 0;
    virtual void end_stream() = 0;
    // Runs `f` on the I/O thread, in order with the calls above.
    virtual void post(std::function<void()> f) = 0;
    // `f` runs on the I/O thread if the client goes away before the response has ended (at once if
    // it already has).
    virtual void on_abandon(std::function<void()> f) = 0;
};

struct Handlers {
    // After a request's head: an answer now (401, 404, 405, ...: the body is not read), or nothing
    // to go on; `keep_body` says whether the body is kept for on_request or read and dropped.
    std::function<std::optional<HttpResponse>(const HttpRequest&, bool& keep_body)> on_head;
    // The whole request. Called on the I/O thread: work of any length goes elsewhere.
    std::function<void(HttpRequest, std::shared_ptr<Exchange>)> on_request;
    // The response to a request the front refuses itself (malformed, too large, timed out, busy:
    // 503, which should say when to retry).
    std::function<HttpResponse(int status, const std::string& message, const std::string& code)> on_error;
    // Every response's status, once sent (metrics).
    std::function<void(int status)> on_response;
};

class HttpServer {
public:
    HttpServer(const ServerLimits& limits, Handlers handlers, MemoryBudget& budget);
    ~HttpServer();

    // Listens on host:port (0: any free port); returns the port.
    int bind(const std::string& host, int port);
    // Serves until stop(); the I/O thread is the caller's.
    void run();
    // Stops accepting and closes idle connections; run() returns once the answers in progress
    // have been sent (or after a grace period). Callable from any thread.
    void stop();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace dimple::server::http
