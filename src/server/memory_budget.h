// The memory the server may give to requests: --memory-limit less what the model and the server
// itself hold (see server.cpp). Every stage of a request reserves what it will use before it uses
// it: the body as it is read, the body inflated, the parsed request and its images, and decoding
// (prompt, caches, activations, logits). A stage that finds no room refuses the request (503 or
// 429, with Retry-After) instead of taking the memory, so the sum of what all requests hold stays
// within the capacity, whatever they send.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace dimple::server {

class MemoryBudget {
public:
    explicit MemoryBudget(uint64_t capacity) : capacity_(capacity) {}
    MemoryBudget(const MemoryBudget&) = delete;
    MemoryBudget& operator=(const MemoryBudget&) = delete;

    // Bytes held for one request (or one stage of it); given back when destroyed.
    class Reservation {
    public:
        Reservation() = default;
        Reservation(Reservation&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.bytes_ = 0; }
        Reservation& operator=(Reservation&& o) noexcept;
        ~Reservation() { release(); }

        // Holds `bytes` more; false (holding what it held) when the budget lacks the room.
        bool grow(uint64_t bytes);
        // Holds at least `bytes` in all.
        bool grow_to(uint64_t bytes) { return bytes <= bytes_ || grow(bytes - bytes_); }
        // Gives back `bytes` of what it holds (all of it at most).
        void shrink(uint64_t bytes);
        // Takes over what `other` holds.
        void absorb(Reservation&& other);
        void release();
        uint64_t bytes() const { return bytes_; }

    private:
        friend class MemoryBudget;
        explicit Reservation(MemoryBudget* b) : budget_(b) {}
        MemoryBudget* budget_ = nullptr;
        uint64_t bytes_ = 0;
    };

    // A reservation of `bytes`, or nothing when there is not the room.
    std::optional<Reservation> reserve(uint64_t bytes);
    Reservation none() { return Reservation(this); }

    uint64_t capacity() const { return capacity_; }
    uint64_t used() const { return used_.load(); }
    uint64_t peak() const { return peak_.load(); }

private:
    bool take(uint64_t bytes);
    void give(uint64_t bytes) { used_.fetch_sub(bytes); }

    const uint64_t capacity_;
    std::atomic<uint64_t> used_{0}, peak_{0};
};

}  // namespace dimple::server
