#include "core/block_cache.h"

#include <sanitizer/asan_interface.h>

#include <bit>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>

namespace dimple::block_cache {

namespace {

struct Block {
    size_t bytes;
    void* p;
};

// Kept blocks in the order they were given back (oldest first), and by size for take(). When the
// bound is reached the oldest go: a size that no longer recurs (the logits of a step with a mask
// count not seen again) leaves instead of filling the cache for good and turning away the blocks
// the next steps do reuse.
struct Kept {
    std::mutex mutex;
    std::list<Block> order;
    std::multimap<size_t, std::list<Block>::iterator> by_size;
    size_t bytes = 0;
    size_t max_bytes = kDefaultMaxBytes;
};

Kept& kept() {
    static Kept* k = new Kept;  // never destroyed: tensors freed during static destruction still give
    return *k;
}

void forget(Kept& k, std::multimap<size_t, std::list<Block>::iterator>::iterator at) {
    k.bytes -= at->first;
    k.order.erase(at->second);
    k.by_size.erase(at);
}

void free_block(void* p, size_t bytes) {
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);
    std::free(p);
}

// Frees the oldest kept blocks until the cache is within `bound`.
void shrink_to(Kept& k, size_t bound) {
    while (k.bytes > bound) {
        const Block oldest = k.order.front();
        auto [first, last] = k.by_size.equal_range(oldest.bytes);
        while (first != last && first->second != k.order.begin()) ++first;
        forget(k, first);
        free_block(oldest.p, oldest.bytes);
    }
}

}  // namespace

size_t block_size(size_t bytes) {
    const size_t rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
    if (rounded < kMinBytes) return rounded;
    const size_t step = std::bit_floor(rounded) / 8;
    return (rounded + step - 1) / step * step;
}

void* take(size_t bytes) {
    if (bytes >= kMinBytes) {
        Kept& k = kept();
        std::lock_guard<std::mutex> lock(k.mutex);
        auto it = k.by_size.find(bytes);
        if (it != k.by_size.end()) {
            void* p = it->second->p;
            forget(k, it);
            ASAN_UNPOISON_MEMORY_REGION(p, bytes);
            return p;
        }
    }
    return std::aligned_alloc(64, bytes);
}

void give(void* block, size_t bytes) {
    if (block == nullptr) return;
    if (bytes >= kMinBytes) {
        Kept& k = kept();
        std::lock_guard<std::mutex> lock(k.mutex);
        if (bytes <= k.max_bytes) {
            // Under AddressSanitizer a kept block reads as freed: a tensor used after its release
            // is still reported.
            ASAN_POISON_MEMORY_REGION(block, bytes);
            k.order.push_back({bytes, block});
            k.by_size.emplace(bytes, std::prev(k.order.end()));
            k.bytes += bytes;
            shrink_to(k, k.max_bytes);
            return;
        }
    }
    std::free(block);
}

void release() {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    shrink_to(k, 0);
}

void set_max_bytes(size_t bytes) {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    shrink_to(k, 0);
    k.max_bytes = bytes;
}

size_t max_bytes() {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    return k.max_bytes;
}

size_t kept_bytes() {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    return k.bytes;
}

}  // namespace dimple::block_cache
