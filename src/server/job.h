// A request in flight, shared by the HTTP thread that answers it and the scheduler that decodes it:
// the inputs, and a channel of events from the scheduler (one per step when streaming, then the
// outcome). The HTTP side sets `cancelled` when its client goes away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "decode/generate.h"
#include "server/api_error.h"
#include "vision/image.h"

namespace dimple::server {

using Clock = std::chrono::steady_clock;

struct JobInput {
    std::vector<int64_t> ids;  // the chat prompt, one image-pad token per image
    std::vector<Image> images;
    GenerateOptions options;   // priors included
    std::vector<std::string> stop;
    bool step_events = false;  // send an event after every step (streaming)
};

struct Outcome {
    std::optional<ApiError> error;  // set when the request failed
    std::string text;
    std::string finish_reason;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    int steps = 0;
};

struct JobEvent {
    int step = 0;                    // steps run so far
    std::string delta;               // text that became final at this step
    std::vector<int64_t> answer;     // the answer after it, masks in place
    std::vector<int64_t> committed;  // answer offsets committed at it
    int64_t masks = 0;
    double elapsed_ms = 0;           // since decoding began
    std::optional<Outcome> outcome;  // the last event
};

class Job {
public:
    Job(JobInput in, Clock::time_point until) : input(std::move(in)), arrived(Clock::now()), deadline(until) {}

    const JobInput input;
    const Clock::time_point arrived, deadline;
    std::atomic<bool> cancelled{false};

    void push(JobEvent e) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            events_.push_back(std::move(e));
        }
        cv_.notify_all();
    }
    // The next event, or nothing after `timeout`.
    std::optional<JobEvent> pop(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
        JobEvent e = std::move(events_.front());
        events_.pop_front();
        return e;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<JobEvent> events_;
};

}  // namespace dimple::server
