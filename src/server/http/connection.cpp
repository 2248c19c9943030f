#include "server/http/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

namespace dimple::server::http {

namespace {

constexpr double kLingerS = 2;                      // how long a closing connection's input is drained
constexpr size_t kReadChunk = 64 << 10;             // bytes read at a time
const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::string http_date() {
    char buf[64];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::string error_code_for(int status) {
    switch (status) {
        case 408: return "request_timeout";
        case 413: return "body_too_large";
        case 431: return "headers_too_large";
        case 501: return "not_implemented";
        case 503: return "server_busy";
        default: return "bad_http_request";
    }
}

}  // namespace

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

Connection::Connection(ConnectionHost& host, int fd, uint64_t id)
    : host_(host), fd_(fd), id_(id), reader_(std::make_unique<RequestReader>(host.limits().reader)),
      last_progress_(now_s()) {}

Connection::~Connection() {
    if (answering() && !ended_) gone();
    ::close(fd_);
}

void Connection::update_watch() {
    const size_t cap = host_.limits().reader.max_head_bytes + kReadChunk;
    // Input is read while a request is read, and between answers only as far as a pipelined
    // request's head (the client gets no further ahead); after the end of stream there is none.
    const bool read = !peer_eof_ && (phase_ == Phase::Reading || phase_ == Phase::Lingering || in_.size() < cap);
    const bool write = sent_ < out_.size();
    if (read == watching_read_ && write == watching_write_) return;
    watching_read_ = read;
    watching_write_ = write;
    host_.watch(fd_, id_, read, write);
}

void Connection::on_readable() {
    char buf[kReadChunk];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) gone();
        return;
    }
    if (n == 0) return on_eof();
    last_progress_ = now_s();
    if (phase_ == Phase::Lingering) return;  // dropped
    if (phase_ == Phase::Reading && request_deadline_ == 0) request_deadline_ = last_progress_ + host_.limits().request_timeout_s;
    in_.append(buf, size_t(n));
    if (phase_ == Phase::Reading) advance();
    update_watch();
}

void Connection::advance() {
    // Answers given at once (a refused head) end here again through next_request(): the loop
    // below takes the next pipelined request instead of a nested call per request.
    if (advancing_) return;
    advancing_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{advancing_};
    while (phase_ == Phase::Reading && !finished_) {
        const size_t used = reader_->feed(in_);
        in_.erase(0, used);
        const RequestReader::State s = reader_->state();
        if (s == RequestReader::State::Failed) return refuse(reader_->error_status(), reader_->error_message());
        if (s == RequestReader::State::Head) return;
        if (!head_checked_) {
            head_checked_ = true;
            check_head();  // a refusal answered in full leaves the next pipelined request to this loop
            continue;      // (and the body may already be here)
        }
        if (s == RequestReader::State::Body) return;
        return dispatch();
    }
}

// The head is whole: the route, the key and the body's size are checked before the body is read,
// and the body's memory is reserved before it arrives.
void Connection::check_head() {
    HttpRequest& req = reader_->request();
    bool keep_body = false;
    if (std::optional<HttpResponse> refusal = host_.handlers().on_head(req, keep_body)) {
        // Unless the request had no body, its end is not read: nothing after it can be.
        close_after_ = close_after_ || reader_->state() != RequestReader::State::Done || !reader_->keep_alive();
        http10_ = req.version == 10;
        head_only_ = req.method == "HEAD";
        ++seq_;
        ended_ = false;
        return start_response(*refusal, false);
    }
    if (keep_body) req.reservation = host_.budget().none();  // what the request holds, from here on
    if (reader_->state() != RequestReader::State::Body) return;
    if (keep_body) {
        const uint64_t length = reader_->content_length().value_or(0);
        if (!req.reservation.grow_to(length)) {
            return refuse(503, "the server's memory for requests is in use; retry shortly");
        }
        req.body.reserve(size_t(length));
        const uint64_t max_body = host_.limits().reader.max_body_bytes;
        reader_->read_body([&req, max_body](std::string_view piece) {
            const size_t need = req.body.size() + piece.size();
            if (need > req.body.capacity()) {  // chunked: the reservation grows with the buffer
                const size_t cap = std::max<size_t>(need, std::min<uint64_t>(2 * req.body.capacity(), max_body));
                if (!req.reservation.grow_to(cap)) return false;
                req.body.reserve(cap);
            }
            req.body.append(piece);
            return true;
        });
    } else {
        reader_->read_body([](std::string_view) { return true; });
    }
    if (reader_->expects_continue()) {
        out_ += kContinue;
        flush();
    }
}

void Connection::dispatch() {
    HttpRequest& req = reader_->request();
    phase_ = Phase::Waiting;
    request_deadline_ = 0;
    ++seq_;
    ended_ = false;
    abandon_.clear();
    probed_ = false;
    close_after_ = close_after_ || !reader_->keep_alive() || host_.stopping();
    http10_ = req.version == 10;
    head_only_ = req.method == "HEAD";
    host_.handlers().on_request(std::move(req), host_.exchange(id_, seq_));
    update_watch();
}

void Connection::refuse(int status, const std::string& message) {
    close_after_ = true;  // the request's end is not known: nothing after it can be read
    reader_->request() = HttpRequest{};  // what was read of it, and its memory, go now
    ++seq_;
    ended_ = false;
    start_response(host_.handlers().on_error(status, message, error_code_for(status)), false);
}

void Connection::on_eof() {
    peer_eof_ = true;
    close_after_ = true;  // no request can follow
    switch (phase_) {
        case Phase::Reading:
            if (request_deadline_ == 0 && in_.empty()) {
                finished_ = true;  // between requests: a plain close
                return;
            }
            reader_->end_of_stream();
            advance();
            break;
        case Phase::Waiting:
            // A half-close after a whole request still wants the answer; a client that has gone
            // cannot be told apart until something is sent to it, which its system answers with a
            // reset. An interim 100 response is such a thing for HTTP/1.1 (clients must accept
            // unexpected 1xx responses); an HTTP/1.0 client simply waits for its answer.
            if (!http10_ && !probed_) {
                probed_ = true;
                out_ += kContinue;
                flush();
            }
            break;
        case Phase::Streaming:
            if (!probed_ && !probe_.empty()) {
                probed_ = true;
                send_piece(seq_, probe_);
            }
            break;
        case Phase::Writing: break;
        case Phase::Lingering: finished_ = true; return;
    }
    update_watch();
}

void Connection::on_hangup() { gone(); }

void Connection::gone() {
    if (answering() && !ended_) {
        ended_ = true;
        std::vector<std::function<void()>> callbacks = std::move(abandon_);
        for (auto& f : callbacks) f();
    }
    finished_ = true;
}

void Connection::on_tick(double now) {
    const ServerLimits& l = host_.limits();
    if (phase_ == Phase::Reading && request_deadline_ > 0 && now > request_deadline_) {
        const long limit = long(l.request_timeout_s);
        refuse(408, "the request did not arrive whole within " + std::to_string(limit) + " s");
    } else if (phase_ == Phase::Reading && request_deadline_ == 0 && now - last_progress_ > l.idle_timeout_s) {
        finished_ = true;  // idle between requests
    } else if ((phase_ == Phase::Writing || phase_ == Phase::Streaming) && sent_ < out_.size() &&
               now - last_progress_ > l.idle_timeout_s) {
        gone();  // the client does not read its answer
    } else if (phase_ == Phase::Lingering && now > linger_deadline_) {
        finished_ = true;
    }
}

void Connection::on_stop() {
    if (phase_ == Phase::Reading && request_deadline_ == 0) finished_ = true;
    close_after_ = true;
}

void Connection::start_response(const HttpResponse& r, bool stream) {
    host_.handlers().on_response(r.status);
    chunked_ = stream && !http10_;
    if (stream && http10_) close_after_ = true;  // the body ends with the connection
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) + "\r\n";
    head += "Date: " + http_date() + "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    if (!r.content_type.empty()) head += "Content-Type: " + r.content_type + "\r\n";
    if (chunked_) head += "Transfer-Encoding: chunked\r\n";
    if (!stream) head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    if (close_after_) head += "Connection: close\r\n";
    else if (http10_) head += "Connection: keep-alive\r\n";
    out_ += head + "\r\n";
    phase_ = stream ? Phase::Streaming : Phase::Writing;
    if (head_only_) {
        phase_ = Phase::Writing;
    } else if (stream) {
        if (!r.body.empty()) send_piece(seq_, r.body);
    } else {
        out_ += r.body;
    }
    if (phase_ == Phase::Writing) ended_ = true;
    flush();
}

void Connection::respond(uint64_t seq, HttpResponse r) {
    if (active(seq) && phase_ == Phase::Waiting) start_response(r, false);
}

void Connection::begin_stream(uint64_t seq, HttpResponse head, std::string probe) {
    if (!active(seq) || phase_ != Phase::Waiting) return;
    probe_ = std::move(probe);
    start_response(head, true);
    if (peer_eof_ && !probed_ && !probe_.empty()) {  // half-closed while waiting: find out now
        probed_ = true;
        send_piece(seq, probe_);
    }
}

void Connection::send_piece(uint64_t seq, const std::string& piece) {
    if (!active(seq) || phase_ != Phase::Streaming || piece.empty()) return;
    if (chunked_) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        out_ += size + piece + "\r\n";
    } else {
        out_ += piece;
    }
    if (out_.size() - sent_ > host_.limits().max_unsent_bytes) return gone();  // the client does not read
    flush();
}

void Connection::end_stream(uint64_t seq) {
    if (!active(seq) || phase_ != Phase::Streaming) return;
    if (chunked_) out_ += "0\r\n\r\n";
    phase_ = Phase::Writing;
    ended_ = true;
    flush();
}

void Connection::on_abandon(uint64_t seq, std::function<void()> f) {
    if (seq == seq_ && answering() && !ended_) abandon_.push_back(std::move(f));
}

void Connection::on_writable() { flush(); }

void Connection::flush() {
    while (sent_ < out_.size()) {
        const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return gone();
        }
        sent_ += size_t(n);
        last_progress_ = now_s();
    }
    if (sent_ == out_.size()) {
        out_.clear();
        sent_ = 0;
        if (phase_ == Phase::Writing) return response_done();
    } else if (sent_ > (size_t(1) << 20)) {
        out_.erase(0, sent_);  // what was sent goes, so that a long stream does not grow the buffer
        sent_ = 0;
    }
    update_watch();
}

void Connection::response_done() {
    abandon_.clear();
    if (!close_after_) return next_request();
    // Our side closes; the client's remaining bytes are read and dropped for a while.
    shutdown(fd_, SHUT_WR);
    phase_ = Phase::Lingering;
    linger_deadline_ = now_s() + kLingerS;
    if (peer_eof_) finished_ = true;
    update_watch();
}

void Connection::next_request() {
    phase_ = Phase::Reading;
    reader_ = std::make_unique<RequestReader>(host_.limits().reader);
    head_checked_ = false;
    request_deadline_ = in_.empty() ? 0 : now_s() + host_.limits().request_timeout_s;
    advance();  // a pipelined request may be here already
    update_watch();
}

}  // namespace dimple::server::http
