// A small blocking HTTP/1.1 client over loopback for the server tests: whole requests (Client) and
// a raw connection (RawConnection) that sends exactly the bytes a test writes (malformed requests,
// pipelining, half-closes, slow clients) and reads responses as they come.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stest {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    int status = 0;
    std::string version;  // "HTTP/1.1"
    Headers headers;
    std::string body;
    bool chunked = false;  // the body came in chunked transfer coding
    // The first header of that name (any case), "" when absent.
    std::string get_header_value(const std::string& name) const;
};
using Result = std::optional<Response>;  // nothing when no whole response arrived

class RawConnection {
public:
    explicit RawConnection(int port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends all of `bytes`; false when the server has closed or reset the connection.
    bool send(const std::string& bytes);
    void shutdown_write();
    void close();
    // The next response (1xx interim ones skipped unless asked for); nothing when the connection
    // ends or `timeout_s` passes first. A response to HEAD has no body.
    Result read_response(double timeout_s = 120, bool head = false, bool interim = false);
    // Reads until `marker` has arrived (false at the end of the connection or the timeout).
    bool read_until(const std::string& marker, double timeout_s = 60);
    // Whether the server closed the connection (end of stream or reset) within `timeout_s`,
    // discarding what arrives before.
    bool closed_by_server(double timeout_s);

private:
    bool fill(double deadline_s);  // reads more into buffer_; false at the end or the deadline
    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

// One request per connection, as a plain client makes them.
class Client {
public:
    Client(std::string host, int port) : port_(port) { (void)host; }
    void set_read_timeout(double seconds) { timeout_s_ = seconds; }

    Result request(const std::string& method, const std::string& path, const Headers& headers = {},
                   const std::string& body = {}, const std::string& content_type = {});
    Result Get(const std::string& path, const Headers& headers = {}) { return request("GET", path, headers); }
    Result Delete(const std::string& path) { return request("DELETE", path); }
    Result Post(const std::string& path, const std::string& body, const std::string& content_type) {
        return request("POST", path, {}, body, content_type);
    }
    Result Post(const std::string& path, const Headers& headers, const std::string& body, const std::string& content_type) {
        return request("POST", path, headers, body, content_type);
    }

private:
    int port_;
    double timeout_s_ = 120;
};

}  // namespace stest
