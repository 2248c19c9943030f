// Continuous batching: one thread decodes every admitted request, one diffusion step at a time,
// all of them in one forward pass per step. Requests wait in a bounded FIFO queue and join the
// batch between steps as places free up; they leave when done, cancelled or past their deadline.
// All model computation (vision encoding included) runs on this thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/engine.h"
#include "server/job.h"
#include "server/limits.h"
#include "server/metrics.h"

namespace dimple::server {

class Scheduler {
public:
    Scheduler(const Engine& engine, const Limits& limits, Metrics& metrics);
    ~Scheduler();

    // Queues a job; throws ApiError 429 (with a retry hint) when the queue is full, 503 once stopped.
    void submit(std::shared_ptr<Job> job);
    // Fails what is queued or running with 503 and ends the thread.
    void stop();

    size_t queued() const;
    size_t active() const { return active_count_; }

private:
    struct Active;
    void run();
    void admit(std::shared_ptr<Job> job);
    void step_all();
    bool report(Active& a);

    const Engine& engine_;
    const Limits limits_;
    Metrics& metrics_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    std::vector<std::unique_ptr<Active>> active_;  // the scheduler thread's own
    std::atomic<size_t> active_count_{0};
    std::thread thread_;
};

}  // namespace dimple::server
