// Reading one HTTP/1.x request from a connection's bytes, strictly: Boost.Beast's parser (a
// well-kept one, fuzzed upstream) under limits on the head's bytes, on its header fields and on the
// body, plus the framing rules of RFC 9112 that a server behind a proxy must keep, so that a
// request cannot be read two ways: conflicting or repeated Content-Length, Content-Length with
// Transfer-Encoding, a transfer coding other than chunked, Transfer-Encoding in HTTP/1.0, a
// missing or repeated Host in HTTP/1.1 are all refused (400, 501), and bodies end where their
// framing says, so that pipelined requests are read one after the other.
//
// The head is read first and stops there: the server checks the route, the key and the memory for
// the body before a byte of the body is taken.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/http_message.h"

namespace dimple::server::http {

struct ReaderLimits {
    size_t max_head_bytes = 16 << 10;  // request line and headers
    size_t max_fields = 100;           // header fields
    uint64_t max_body_bytes = 20 << 20;
};

class RequestReader {
public:
    enum class State { Head, Body, Done, Failed };

    explicit RequestReader(const ReaderLimits& limits);
    ~RequestReader();
    RequestReader(const RequestReader&) = delete;
    RequestReader& operator=(const RequestReader&) = delete;

    // Parses what it can of `bytes`; returns how many it used. The rest belong to a later request
    // (pipelining) or wait for more bytes. Stops at the end of the head (state Body, or Done when
    // there is no body) until read_body() is called.
    size_t feed(std::string_view bytes);
    // The client closed its side: a request not yet whole fails (status 400).
    void end_of_stream();
    State state() const { return state_; }

    // After the head: the request (its body empty until read).
    HttpRequest& request() { return request_; }
    std::optional<uint64_t> content_length() const;  // none for chunked bodies
    bool keep_alive() const;         // what the version and Connection header ask for
    bool expects_continue() const;   // "Expect: 100-continue"
    // Starts reading the body: each piece goes to `sink`, which may refuse it (false: the request
    // fails with status 503, its body left unread).
    void read_body(std::function<bool(std::string_view)> sink);

    // Why the request failed: the status to answer (400, 413, 431, 501, 503) and a message.
    int error_status() const { return error_status_; }
    const std::string& error_message() const { return error_message_; }

private:
    struct Parser;
    void fail(int status, std::string message);

    std::unique_ptr<Parser> parser_;
    HttpRequest request_;
    State state_ = State::Head;
    int error_status_ = 0;
    std::string error_message_;
};

}  // namespace dimple::server::http
