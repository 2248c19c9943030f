// The threads that turn a chat request's body into a job (inflating, JSON, images, the chat
// template and tokens): work too long for the HTTP front's one I/O thread. How many there are bounds
// how many requests are parsed at once; what waits for them holds only its body, whose memory is
// reserved already.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dimple::server {

class Workers {
public:
    explicit Workers(int threads);
    ~Workers();  // runs what is queued, then joins
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    void post(std::function<void()> task);

private:
    void run();

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace dimple::server
