// Counters the server exports at GET /metrics in the Prometheus text format.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace dimple::server {

class Metrics {
public:
    void count_response(int status);
    void count_finished(int64_t prompt_tokens, int64_t answer_tokens);
    void count_cancelled();
    // One batched forward pass (or a step without one) of `batch` requests.
    void record_step(double seconds, int batch);

    // The memory budget's figures (memory_budget.h).
    struct Memory {
        uint64_t reserved = 0, peak = 0, capacity = 0;
    };
    std::string render(size_t queued, size_t active, const Memory& memory) const;

private:
    static constexpr std::array<double, 11> kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    mutable std::mutex mu_;
    std::map<int, uint64_t> responses_;  // by HTTP status
    uint64_t prompt_tokens_ = 0, answer_tokens_ = 0, finished_ = 0, cancelled_ = 0;
    uint64_t steps_ = 0, batched_requests_ = 0;
    std::array<uint64_t, kBuckets.size()> step_buckets_{};
    double step_seconds_ = 0;
};

}  // namespace dimple::server
