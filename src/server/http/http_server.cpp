#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>

#include "core/error.h"
#include "server/http/connection.h"

namespace dimple::server::http {

namespace {

constexpr uint64_t kListenerId = 0, kMailboxId = 1;  // epoll ids; connections count from 2
constexpr int kTickMs = 50;                            // how often deadlines are looked at
constexpr double kStopGraceS = 10;                     // how long stopping waits for answers in progress
constexpr int kOverCap = 64;                           // closing connections at a time beyond the cap

// Work handed to the I/O thread from others (the exchanges' calls), woken through an eventfd. It
// outlives the server's loop: an exchange used after the server has gone posts into a closed box.
struct Mailbox {
    std::mutex mu;
    std::vector<std::function<void(HttpServer::Impl&)>> tasks;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    bool open = true;

    ~Mailbox() { ::close(efd); }
    void post(std::function<void(HttpServer::Impl&)> f) {
        std::lock_guard<std::mutex> lock(mu);
        if (!open) return;
        tasks.push_back(std::move(f));
        const uint64_t one = 1;
        (void)!write(efd, &one, sizeof one);
    }
};

}  // namespace

struct HttpServer::Impl : ConnectionHost {
    ServerLimits limits_;
    Handlers handlers_;
    MemoryBudget& budget_;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    int listener = -1;
    std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
    std::map<uint64_t, std::unique_ptr<Connection>> connections;
    uint64_t next_id = 2;
    std::atomic<bool> stop_requested{false};
    bool stopping_ = false;
    double stop_deadline = 0;

    Impl(const ServerLimits& l, Handlers h, MemoryBudget& b) : limits_(l), handlers_(std::move(h)), budget_(b) {
        epoll_event ev{EPOLLIN, {.u64 = kMailboxId}};
        epoll_ctl(epfd, EPOLL_CTL_ADD, mailbox->efd, &ev);
    }
    ~Impl() override {
        {
            std::lock_guard<std::mutex> lock(mailbox->mu);
            mailbox->open = false;
            mailbox->tasks.clear();
        }
        connections.clear();
        if (listener >= 0) ::close(listener);
        ::close(epfd);
    }

    const ServerLimits& limits() const override { return limits_; }
    Handlers& handlers() override { return handlers_; }
    MemoryBudget& budget() override { return budget_; }
    bool stopping() const override { return stopping_; }
    void watch(int fd, uint64_t id, bool read, bool write) override {
        epoll_event ev{(read ? uint32_t(EPOLLIN) : 0u) | (write ? uint32_t(EPOLLOUT) : 0u), {.u64 = id}};
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    std::shared_ptr<Exchange> exchange(uint64_t connection, uint64_t seq) override;

    Connection* find(uint64_t id) {
        const auto it = connections.find(id);
        return it == connections.end() || it->second->finished() ? nullptr : it->second.get();
    }

    void accept_all();
    void drain_mailbox();
    void begin_stop();
    void reap();
};

namespace {

class ExchangeImpl : public Exchange {
public:
    ExchangeImpl(std::shared_ptr<Mailbox> m, uint64_t conn, uint64_t seq) : mailbox_(std::move(m)), conn_(conn), seq_(seq) {}

    void respond(HttpResponse r) override {
        on_connection([r = std::move(r)](Connection& c, uint64_t seq) mutable { c.respond(seq, std::move(r)); });
    }
    void begin_stream(HttpResponse head, std::string probe) override {
        on_connection([h = std::move(head), p = std::move(probe)](Connection& c, uint64_t seq) mutable {
            c.begin_stream(seq, std::move(h), std::move(p));
        });
    }
    void send(std::string piece) override {
        on_connection([p = std::move(piece)](Connection& c, uint64_t seq) { c.send_piece(seq, p); });
    }
    void end_stream() override {
        on_connection([](Connection& c, uint64_t seq) { c.end_stream(seq); });
    }
    void post(std::function<void()> f) override {
        mailbox_->post([f = std::move(f)](HttpServer::Impl&) { f(); });
    }
    void on_abandon(std::function<void()> f) override {
        mailbox_->post([conn = conn_, seq = seq_, f = std::move(f)](HttpServer::Impl& s) mutable {
            if (Connection* c = s.find(conn))
                c->on_abandon(seq, std::move(f));
            else
                f();  // the connection is gone already
        });
    }

private:
    template <class F>
    void on_connection(F f) {
        mailbox_->post([conn = conn_, seq = seq_, f = std::move(f)](HttpServer::Impl& s) mutable {
            if (Connection* c = s.find(conn)) f(*c, seq);
        });
    }
    std::shared_ptr<Mailbox> mailbox_;
    uint64_t conn_, seq_;
};

}  // namespace

std::shared_ptr<Exchange> HttpServer::Impl::exchange(uint64_t connection, uint64_t seq) {
    return std::make_shared<ExchangeImpl>(mailbox, connection, seq);
}

void HttpServer::Impl::accept_all() {
    for (;;) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        const int fd = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or a connection that went before it was accepted
        // Over the cap a connection is told 503 at once and closed (its answer sent, what it sends
        // read and dropped for a moment, as any closing connection's), never kept waiting; a few
        // more than the cap may be so answered at a time, the rest are closed unanswered.
        // Connections closing count apart: a burst of refusals does not hold the cap.
        const int open = int(std::count_if(connections.begin(), connections.end(),
                                           [](const auto& kv) { return !kv.second->closing(); }));
        const bool over = stopping_ || open >= limits_.max_connections;
        if (over && int(connections.size()) - open >= kOverCap) {
            ::close(fd);
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // stream events go out at once
        const uint64_t id = next_id++;
        auto c = std::make_unique<Connection>(*this, fd, id);
        epoll_event ev{EPOLLIN, {.u64 = id}};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        if (over)
            c->reject(503, stopping_ ? "the server is shutting down"
                                     : "the server has too many open connections; retry shortly");
        connections.emplace(id, std::move(c));
    }
}

void HttpServer::Impl::drain_mailbox() {
    uint64_t n;
    (void)!read(mailbox->efd, &n, sizeof n);
    std::vector<std::function<void(Impl&)>> tasks;
    {
        std::lock_guard<std::mutex> lock(mailbox->mu);
        tasks.swap(mailbox->tasks);
    }
    for (auto& t : tasks) {
        t(*this);
        reap();  // a connection that has finished is never found by a later task
    }
}

void HttpServer::Impl::begin_stop() {
    stopping_ = true;
    stop_deadline = now_s() + kStopGraceS;
    if (listener >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, listener, nullptr);
        ::close(listener);
        listener = -1;
    }
    for (auto& [id, c] : connections) c->on_stop();
}

void HttpServer::Impl::reap() {
    std::erase_if(connections, [](const auto& kv) { return kv.second->finished(); });
}

HttpServer::HttpServer(const ServerLimits& limits, Handlers handlers, MemoryBudget& budget)
    : impl_(std::make_shared<Impl>(limits, std::move(handlers), budget)) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    check(getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) == 0 && found, "cannot listen on ",
          host, ":", port, " (not an address of this machine)");
    int fd = -1;
    for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd >= 0 && (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 512) != 0)) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    check(fd >= 0, "cannot listen on ", host, ":", port, " (in use, or not an address of this machine)");
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    impl_->listener = fd;
    epoll_event ev{EPOLLIN, {.u64 = kListenerId}};
    epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev);
    return ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
}

void HttpServer::run() {
    Impl& s = *impl_;
    double last_tick = now_s();
    epoll_event events[64];
    for (;;) {
        if (s.stop_requested && !s.stopping_) s.begin_stop();
        if (s.stopping_) {
            const bool answering = std::any_of(s.connections.begin(), s.connections.end(),
                                               [](const auto& kv) { return kv.second->answering(); });
            if (!answering || now_s() > s.stop_deadline) break;
        }
        const int n = epoll_wait(s.epfd, events, 64, kTickMs);
        for (int i = 0; i < n; ++i) {
            const uint64_t id = events[i].data.u64;
            if (id == kListenerId) {
                s.accept_all();
                continue;
            }
            if (id == kMailboxId) {
                s.drain_mailbox();
                continue;
            }
            Connection* c = s.find(id);
            if (!c) continue;
            const uint32_t e = events[i].events;
            if (e & EPOLLIN) c->on_readable();
            if (!c->finished() && (e & EPOLLOUT)) c->on_writable();
            // A reset or a hangup with nothing left to read: the client is gone.
            if (!c->finished() && (e & (EPOLLERR | EPOLLHUP)) && !(e & EPOLLIN)) c->on_hangup();
        }
        s.reap();
        const double now = now_s();
        if (now - last_tick >= kTickMs / 1000.0) {
            last_tick = now;
            for (auto& [id, c] : s.connections) c->on_tick(now);
            s.reap();
        }
    }
    for (auto& [id, c] : s.connections) c->gone();  // what is left after the grace period
    s.connections.clear();
}

void HttpServer::stop() {
    impl_->stop_requested = true;
    impl_->mailbox->post([](Impl&) {});  // wakes the loop
}

}  // namespace dimple::server::http
