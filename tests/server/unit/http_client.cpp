#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace stest {

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool iequals(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

}  // namespace

std::string Response::get_header_value(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return {};
}

RawConnection::RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
}

RawConnection::~RawConnection() { close(); }

bool RawConnection::send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += size_t(n);
    }
    return true;
}

void RawConnection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool RawConnection::fill(double deadline_s) {
    if (eof_ || fd_ < 0) return false;
    const double left = deadline_s - now_s();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, int(left * 1000) + 1) <= 0) return false;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    buffer_.append(buf, size_t(n));
    return true;
}

bool RawConnection::read_until(const std::string& marker, double timeout_s) {
    const double deadline = now_s() + timeout_s;
    while (buffer_.find(marker) == std::string::npos)
        if (!fill(deadline)) return false;
    return true;
}

bool RawConnection::closed_by_server(double timeout_s) {
    const double deadline = now_s() + timeout_s;
    while (!eof_) {
        buffer_.clear();
        if (!fill(deadline) && !eof_) return false;
    }
    return true;
}

Result RawConnection::read_response(double timeout_s, bool head, bool interim) {
    const double deadline = now_s() + timeout_s;
    for (;;) {
        size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(deadline)) return std::nullopt;
        Response r;
        const std::string head_text = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
        size_t line_end = head_text.find("\r\n");
        const std::string status_line = head_text.substr(0, line_end);
        r.version = status_line.substr(0, status_line.find(' '));
        r.status = std::atoi(status_line.c_str() + status_line.find(' ') + 1);
        while (line_end != std::string::npos) {
            const size_t start = line_end + 2;
            line_end = head_text.find("\r\n", start);
            const std::string line = head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(line.substr(0, colon), value);
        }
        if (r.status >= 100 && r.status < 200) {
            if (interim) return r;
            continue;
        }
        if (head || r.status == 204 || r.status == 304) return r;
        const std::string length = r.get_header_value("Content-Length");
        if (iequals(r.get_header_value("Transfer-Encoding"), "chunked")) {
            r.chunked = true;
            for (;;) {
                while ((end = buffer_.find("\r\n")) == std::string::npos)
                    if (!fill(deadline)) return std::nullopt;
                const size_t size = std::stoul(buffer_.substr(0, end), nullptr, 16);
                while (buffer_.size() < end + 2 + size + 2)
                    if (!fill(deadline)) return std::nullopt;
                r.body += buffer_.substr(end + 2, size);
                buffer_.erase(0, end + 2 + size + 2);
                if (size == 0) return r;
            }
        }
        if (!length.empty()) {
            const size_t n = std::stoul(length);
            while (buffer_.size() < n)
                if (!fill(deadline)) return std::nullopt;
            r.body = buffer_.substr(0, n);
            buffer_.erase(0, n);
            return r;
        }
        while (fill(deadline)) {
        }  // the body runs to the end of the connection
        if (!eof_) return std::nullopt;
        r.body = std::move(buffer_);
        buffer_.clear();
        return r;
    }
}

Result Client::request(const std::string& method, const std::string& path, const Headers& headers,
                       const std::string& body, const std::string& content_type) {
    RawConnection c(port_);
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
    if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    c.send(req);  // may fail part way: the server answers a refused request (401, 413) without its body
    return c.read_response(timeout_s_, method == "HEAD");
}

}  // namespace stest
