// One client connection of the HTTP front (http_server.h): its bytes in and out, the request being
// read, the exchange being answered, and its timeouts. Runs on the I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/request_reader.h"

namespace dimple::server::http {

double now_s();  // steady clock, seconds

// What a connection needs from the loop that runs it.
class ConnectionHost {
public:
    virtual ~ConnectionHost() = default;
    virtual const ServerLimits& limits() const = 0;
    virtual Handlers& handlers() = 0;
    virtual MemoryBudget& budget() = 0;
    virtual bool stopping() const = 0;
    // Which events to wait for on the connection's socket.
    virtual void watch(int fd, uint64_t id, bool read, bool write) = 0;
    virtual std::shared_ptr<Exchange> exchange(uint64_t connection, uint64_t seq) = 0;
};

class Connection {
public:
    Connection(ConnectionHost& host, int fd, uint64_t id);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void on_readable();
    void on_writable();
    void on_hangup();  // the socket reported an error or a hangup: the client is gone
    void on_tick(double now);
    // Stopping: a connection between requests closes, the others close after their answer.
    void on_stop();
    // Answers `status` at once, whatever the client sends, and closes (over the connection cap).
    void reject(int status, const std::string& message) { refuse(status, message); }
    bool finished() const { return finished_; }
    // Answered, our side closed, the client's last bytes being dropped: costs no more than its socket.
    bool closing() const { return phase_ == Phase::Lingering; }
    // Whether an answer is being waited for or sent (stopping waits for these).
    bool answering() const { return phase_ == Phase::Waiting || phase_ == Phase::Streaming || phase_ == Phase::Writing; }

    // The exchange's calls, for exchange number `seq` of this connection.
    void respond(uint64_t seq, HttpResponse r);
    void begin_stream(uint64_t seq, HttpResponse head, std::string probe);
    void send_piece(uint64_t seq, const std::string& piece);
    void end_stream(uint64_t seq);
    void on_abandon(uint64_t seq, std::function<void()> f);
    // The client went away: abandons the exchange in progress and closes.
    void gone();

private:
    // Reading: a request's head and body; Waiting: for the handler's answer; Streaming: sending a
    // body in pieces; Writing: the rest of a whole response; Lingering: our side is closed and
    // what the client still sends is read and dropped, so that its unread bytes do not turn our
    // close into a reset that would destroy the answer before the client has read it.
    enum class Phase { Reading, Waiting, Streaming, Writing, Lingering };

    void advance();
    void check_head();
    void dispatch();
    void refuse(int status, const std::string& message);
    void on_eof();
    void start_response(const HttpResponse& r, bool stream);
    void flush();
    void response_done();
    void next_request();
    void update_watch();
    bool active(uint64_t seq) const { return seq == seq_ && answering() && !ended_; }

    ConnectionHost& host_;
    const int fd_;
    const uint64_t id_;
    Phase phase_ = Phase::Reading;
    std::string in_;  // read and not yet parsed
    std::unique_ptr<RequestReader> reader_;
    bool head_checked_ = false;
    bool advancing_ = false;  // advance() is running
    double request_deadline_ = 0;  // 0: no byte of a request yet
    double last_progress_;
    double linger_deadline_ = 0;
    uint64_t seq_ = 0;  // the exchange in progress, or the last one
    bool ended_ = false;  // the exchange's response has been given in full
    std::vector<std::function<void()>> abandon_;
    std::string out_;  // to send
    size_t sent_ = 0;
    bool close_after_ = false, head_only_ = false, http10_ = false, chunked_ = false;
    bool peer_eof_ = false, probed_ = false, watching_read_ = true, watching_write_ = false;
    std::string probe_;
    bool finished_ = false;
};

}  // namespace dimple::server::http
