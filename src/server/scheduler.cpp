#include "server/scheduler.h"

#include <malloc.h>

#include <algorithm>

#include "core/block_cache.h"
#include "core/error.h"
#include "core/threads.h"
#include "decode/batch_forward.h"
#include "decode/decode_state.h"
#include "kernels/matmul.h"
#include "server/answer_text.h"
#include "server/request_memory.h"

namespace dimple::server {

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void fail(Job& job, const ApiError& e) {
    JobEvent ev;
    ev.outcome = Outcome{e, {}, {}, 0, 0, 0};
    job.push(std::move(ev));
}

ApiError time_limit_error(double limit_s) {
    return ApiError(504, "the request ran past the server's time limit of " + std::to_string(limit_s) +
                             " s (dimple serve --time-limit)", "", "time_limit_exceeded", "timeout_error");
}

}  // namespace

struct Scheduler::Active {
    std::shared_ptr<Job> job;
    std::unique_ptr<DecodeState> state;
    AnswerText text;
    Clock::time_point started = Clock::now();
};

// OpenMP's thread count is per thread: the scheduler's thread takes the one of the thread that
// made it (set by --threads), not the process default.
Scheduler::Scheduler(const Engine& engine, const Limits& limits, Metrics& metrics)
    : engine_(engine), limits_(limits), metrics_(metrics), thread_([this, threads = num_threads()] {
          set_num_threads(threads);
          run();
      }) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::submit(std::shared_ptr<Job> job) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) throw ApiError(503, "the server is shutting down", "", "unavailable", "server_error");
        if (int(queue_.size()) >= limits_.queue_size)
            throw ApiError(429, "the server is busy: " + std::to_string(queue_.size()) +
                                    " requests are waiting; retry shortly", "", "queue_full", "rate_limit_error");
        queue_.push_back(std::move(job));
    }
    cv_.notify_all();
}

void Scheduler::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

size_t Scheduler::queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
}

void Scheduler::run() {
    for (;;) {
        std::vector<std::shared_ptr<Job>> joining;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active_.empty(); });
            if (stopping_) {
                const ApiError e(503, "the server is shutting down", "", "unavailable", "server_error");
                for (auto& j : queue_) fail(*j, e);
                for (auto& a : active_) fail(*a->job, e);
                queue_.clear();
                active_.clear();
                active_count_ = 0;
                return;
            }
            // Waiting requests whose client left or whose time is up give their place back.
            std::erase_if(queue_, [&](const std::shared_ptr<Job>& j) {
                if (j->cancelled) metrics_.count_cancelled();
                else if (Clock::now() > j->deadline) fail(*j, time_limit_error(limits_.time_limit_s));
                else return false;
                return true;
            });
            // Fair order: first come, first admitted, as places in the batch free up.
            while (active_.size() + joining.size() < size_t(limits_.max_batch) && !queue_.empty()) {
                joining.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        for (auto& job : joining) admit(std::move(job));
        active_count_ = active_.size();
        if (active_.empty()) continue;
        step_all();
        // Idle again: the step buffers kept for the next step and what the allocator holds freed
        // go back to the system (a long answer's left hundreds of MB resident).
        if (active_.empty() && queued() == 0) {
            block_cache::release();
            malloc_trim(0);
        }
    }
}

// Builds the prompt (the images go through the vision tower here) and the decoding state.
void Scheduler::admit(std::shared_ptr<Job> job) {
    if (job->cancelled) return metrics_.count_cancelled();
    if (Clock::now() > job->deadline) return fail(*job, time_limit_error(limits_.time_limit_s));
    try {
        Prompt prompt = engine_.prompt(job->input.ids, job->input.images);
        // The pictures are in the prompt's rows now: their pixels, and their share of the job's
        // memory, go.
        const uint64_t pictures = images_share(job->input.images);
        std::vector<Image>().swap(job->input.images);
        job->release_memory(pictures);
        auto state = std::make_unique<DecodeState>(engine_.language_model(), std::move(prompt), job->input.options);
        AnswerText text(engine_.tokenizer(), engine_.config().ids, job->input.stop, engine_.family().end_ids);
        active_.push_back(std::unique_ptr<Active>(new Active{std::move(job), std::move(state), std::move(text)}));
    } catch (const Error& e) {
        fail(*job, ApiError(400, e.what(), "messages", "invalid_request"));
    } catch (const std::exception& e) {
        fail(*job, ApiError(500, std::string("preparing the prompt failed: ") + e.what(), "", "internal_error",
                            "server_error"));
    }
}

// Tells a request's client what its step changed; true when it is done. A request whose every
// answer position is fixed (length 0, a template as long as max_tokens) is finished before its
// first step: it is answered without one.
bool Scheduler::report(Active& a) {
    const std::vector<int64_t> answer = a.state->answer();
    const bool done = a.state->finished();
    JobEvent ev;
    ev.delta = done ? a.text.finish(answer) : a.text.update(answer);
    if (a.job->input.step_events) {
        ev.step = a.state->result().steps_run;
        ev.answer = answer;
        ev.committed = a.state->committed();
        ev.masks = a.state->masks_left();
        ev.elapsed_ms = ms_since(a.started);
    }
    if (done || a.text.ended()) {
        if (!done) ev.delta += a.text.finish(answer);
        Outcome o;
        o.text = a.text.text();
        o.finish_reason = a.text.finish_reason();
        o.prompt_tokens = a.state->prompt_len();
        o.completion_tokens = a.text.tokens();
        o.steps = a.state->result().steps_run;
        metrics_.count_finished(o.prompt_tokens, o.completion_tokens);
        ev.outcome = std::move(o);
    }
    const bool last = ev.outcome.has_value();
    if (a.job->input.step_events || last) a.job->push(std::move(ev));
    return last;
}

void Scheduler::step_all() {
    // Requests that left (client gone, time up) leave before the step.
    std::erase_if(active_, [&](const std::unique_ptr<Active>& a) {
        if (a->job->cancelled) {
            metrics_.count_cancelled();
            return true;
        }
        if (Clock::now() > a->job->deadline) {
            fail(*a->job, time_limit_error(limits_.time_limit_s));
            return true;
        }
        return false;
    });
    active_count_ = active_.size();
    if (active_.empty()) return;

    const auto t0 = Clock::now();
    std::vector<DecodeState*> states;
    for (auto& a : active_) states.push_back(a->state.get());
    std::vector<std::exception_ptr> errors;
    try {
        errors = step_together(engine_.language_model(), states);
    } catch (const std::exception& e) {  // not expected: every input was checked on admission
        const ApiError err(500, std::string("decoding failed: ") + e.what(), "", "internal_error", "server_error");
        for (auto& a : active_) fail(*a->job, err);
        active_.clear();
        return;
    }
    for (size_t i = 0; i < active_.size(); ++i) {
        Active& a = *active_[i];
        try {  // not expected to throw; one request's failure is not the others'
            if (errors[i]) std::rethrow_exception(errors[i]);
            if (report(a)) a.job.reset();
        } catch (const std::exception& e) {
            fail(*a.job, ApiError(500, std::string("decoding failed: ") + e.what(), "", "internal_error", "server_error"));
            a.job.reset();
        }
    }
    metrics_.record_step(std::chrono::duration<double>(Clock::now() - t0).count(), int(active_.size()));
    // A request that leaves gives back its reservation, which counted its rows in this thread's
    // converted product inputs: those buffers, sized for the batch it was in, go with it.
    if (std::erase_if(active_, [](const std::unique_ptr<Active>& a) { return a->job == nullptr; }) > 0)
        release_product_scratch();
    active_count_ = active_.size();
}

}  // namespace dimple::server
