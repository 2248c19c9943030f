// A request in flight, shared by the HTTP side that answers it and the scheduler that decodes it:
// the inputs, the memory reserved for it until it is gone, and a channel of events from the
// scheduler (one per step when streaming, then the outcome), each announced through `on_event`.
// The HTTP side sets `cancelled` when its client goes away.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "decode/generate.h"
#include "server/api_error.h"
#include "server/memory_budget.h"
#include "vision/image.h"

namespace dimple::server {

using Clock = std::chrono::steady_clock;

struct JobInput {
    std::vector<int64_t> ids;  // the chat prompt, one image-pad token per image
    int64_t prompt_tokens = 0; // with each image's tokens
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

class Job : public std::enable_shared_from_this<Job> {
public:
    using EventHook = std::function<void(const std::shared_ptr<Job>&)>;
    // `on_event` is called (on the scheduler's thread, or the one that failed the job) after each
    // event is queued; it must not block. Jobs live in shared_ptrs only.
    Job(JobInput in, Clock::time_point until, MemoryBudget::Reservation memory, EventHook on_event)
        : input(std::move(in)), arrived(Clock::now()), deadline(until), memory_(std::move(memory)),
          on_event_(std::move(on_event)) {}

    JobInput input;  // the scheduler's alone once queued; it frees the images once they are encoded
    const Clock::time_point arrived, deadline;
    std::atomic<bool> cancelled{false};

    void push(JobEvent e) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            events_.push_back(std::move(e));
        }
        if (on_event_) on_event_(shared_from_this());
    }
    // Gives back `bytes` of the job's memory (what it has freed).
    void release_memory(uint64_t bytes) { memory_.shrink(bytes); }
    // The next event, if one is queued.
    std::optional<JobEvent> pop() {
        std::lock_guard<std::mutex> lock(mu_);
        if (events_.empty()) return std::nullopt;
        JobEvent e = std::move(events_.front());
        events_.pop_front();
        return e;
    }

private:
    MemoryBudget::Reservation memory_;  // inputs and decoding, held until the job is gone
    EventHook on_event_;
    std::mutex mu_;
    std::deque<JobEvent> events_;
};

}  // namespace dimple::server
