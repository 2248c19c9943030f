#include "server/memory_budget.h"

#include <algorithm>
#include <utility>

namespace dimple::server {

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& o) noexcept {
    if (this != &o) {
        release();
        budget_ = o.budget_;
        bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
}

bool MemoryBudget::Reservation::grow(uint64_t bytes) {
    if (bytes == 0) return true;
    if (!budget_ || !budget_->take(bytes)) return false;
    bytes_ += bytes;
    return true;
}

void MemoryBudget::Reservation::shrink(uint64_t bytes) {
    bytes = std::min(bytes, bytes_);
    if (budget_ && bytes) budget_->give(bytes);
    bytes_ -= bytes;
}

void MemoryBudget::Reservation::absorb(Reservation&& other) {
    if (!budget_) budget_ = other.budget_;
    bytes_ += std::exchange(other.bytes_, 0);
}

void MemoryBudget::Reservation::release() {
    if (budget_ && bytes_) budget_->give(bytes_);
    bytes_ = 0;
}

std::optional<MemoryBudget::Reservation> MemoryBudget::reserve(uint64_t bytes) {
    Reservation r(this);
    if (!r.grow(bytes)) return std::nullopt;
    return r;
}

bool MemoryBudget::take(uint64_t bytes) {
    uint64_t used = used_.load();
    do {
        if (bytes > capacity_ || used > capacity_ - bytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    const uint64_t now = used + bytes;
    uint64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    return true;
}

}  // namespace dimple::server
