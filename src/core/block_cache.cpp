#include "core/block_cache.h"

#include <sanitizer/asan_interface.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace dimple::block_cache {

namespace {

struct Kept {
    std::mutex mutex;
    std::multimap<size_t, void*> blocks;  // by size
    size_t bytes = 0;
    size_t max_bytes = kDefaultMaxBytes;
};

Kept& kept() {
    static Kept* k = new Kept;  // never destroyed: tensors freed during static destruction still give
    return *k;
}

}  // namespace

void* take(size_t bytes) {
    if (bytes >= kMinBytes) {
        Kept& k = kept();
        std::lock_guard<std::mutex> lock(k.mutex);
        auto it = k.blocks.find(bytes);
        if (it != k.blocks.end()) {
            void* p = it->second;
            k.blocks.erase(it);
            k.bytes -= bytes;
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
        if (k.bytes + bytes <= k.max_bytes) {
            // Under AddressSanitizer a kept block reads as freed: a tensor used after its release
            // is still reported.
            ASAN_POISON_MEMORY_REGION(block, bytes);
            k.blocks.emplace(bytes, block);
            k.bytes += bytes;
            return;
        }
    }
    std::free(block);
}

namespace {

void free_all(Kept& k) {
    for (auto& [size, p] : k.blocks) {
        ASAN_UNPOISON_MEMORY_REGION(p, size);
        std::free(p);
    }
    k.blocks.clear();
    k.bytes = 0;
}

}  // namespace

void release() {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    free_all(k);
}

void set_max_bytes(size_t bytes) {
    Kept& k = kept();
    std::lock_guard<std::mutex> lock(k.mutex);
    free_all(k);
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
