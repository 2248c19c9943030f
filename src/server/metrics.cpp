#include "server/metrics.h"

#include <sstream>

namespace dimple::server {

void Metrics::count_response(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    ++responses_[status];
}

void Metrics::count_finished(int64_t prompt_tokens, int64_t answer_tokens) {
    std::lock_guard<std::mutex> lock(mu_);
    ++finished_;
    prompt_tokens_ += uint64_t(prompt_tokens);
    answer_tokens_ += uint64_t(answer_tokens);
}

void Metrics::count_cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    ++cancelled_;
}

void Metrics::record_step(double seconds, int batch) {
    std::lock_guard<std::mutex> lock(mu_);
    ++steps_;
    batched_requests_ += uint64_t(batch);
    step_seconds_ += seconds;
    for (size_t i = 0; i < kBuckets.size(); ++i)
        if (seconds <= kBuckets[i]) ++step_buckets_[i];
}

std::string Metrics::render(size_t queued, size_t active, const Memory& memory) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream o;
    auto metric = [&](const char* name, const char* type, const char* help) {
        o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    };
    metric("dimple_http_responses_total", "counter", "HTTP responses by status code.");
    for (const auto& [status, n] : responses_) o << "dimple_http_responses_total{status=\"" << status << "\"} " << n << '\n';
    auto scalar = [&](const char* name, const char* type, const char* help, auto value) {
        metric(name, type, help);
        o << name << ' ' << value << '\n';
    };
    scalar("dimple_requests_finished_total", "counter", "Chat completions decoded to the end.", finished_);
    scalar("dimple_requests_cancelled_total", "counter", "Chat completions whose client went away.", cancelled_);
    scalar("dimple_prompt_tokens_total", "counter", "Prompt tokens of finished requests (image tokens included).",
           prompt_tokens_);
    scalar("dimple_answer_tokens_total", "counter", "Answer tokens of finished requests.", answer_tokens_);
    scalar("dimple_forward_passes_total", "counter", "Batched diffusion steps (one forward pass each).", steps_);
    scalar("dimple_batched_requests_total", "counter", "Sum over steps of the requests sharing the step.",
           batched_requests_);
    scalar("dimple_queue_length", "gauge", "Requests waiting for a place in the batch.", queued);
    scalar("dimple_active_requests", "gauge", "Requests being decoded.", active);
    scalar("dimple_memory_reserved_bytes", "gauge", "Memory reserved by requests (bodies, parsing, jobs).", memory.reserved);
    scalar("dimple_memory_reserved_peak_bytes", "gauge", "The most memory requests have held at once.", memory.peak);
    scalar("dimple_memory_capacity_bytes", "gauge", "Memory the server may reserve for requests.", memory.capacity);
    metric("dimple_step_seconds", "histogram", "Time of one batched diffusion step.");
    for (size_t i = 0; i < kBuckets.size(); ++i)
        o << "dimple_step_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << step_buckets_[i] << '\n';
    o << "dimple_step_seconds_bucket{le=\"+Inf\"} " << steps_ << '\n';
    o << "dimple_step_seconds_sum " << step_seconds_ << '\n';
    o << "dimple_step_seconds_count " << steps_ << '\n';
    return o.str();
}

}  // namespace dimple::server
