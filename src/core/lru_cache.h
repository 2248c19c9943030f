#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <utility>

namespace dimple {

// A thread-safe map that keeps its `capacity` most recently used entries. It holds compiled oneDNN
// primitives keyed by shape: a server sees a new prompt length with almost every request, and a
// cache without a bound would keep one compiled product per length and layer for the life of the
// process. Values are returned by copy: primitives are reference-counted handles, so one in use
// stays valid after the cache drops it.
template <typename Key, typename Value>
class LruCache {
public:
    explicit LruCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    // The value for `key`, made by make() on a miss (under the lock: each key is made once).
    template <typename Make>
    Value get(const Key& key, Make&& make) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = index_.find(key);
        if (it != index_.end()) {
            entries_.splice(entries_.begin(), entries_, it->second);
            return it->second->second;
        }
        entries_.emplace_front(key, make());
        index_.emplace(key, entries_.begin());
        if (entries_.size() > capacity_) {
            index_.erase(entries_.back().first);
            entries_.pop_back();
        }
        return entries_.front().second;
    }

    size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return entries_.size();
    }

private:
    using Entries = std::list<std::pair<Key, Value>>;
    size_t capacity_;
    Entries entries_;  // most recently used first
    std::map<Key, typename Entries::iterator> index_;
    mutable std::mutex mutex_;
};

}  // namespace dimple
