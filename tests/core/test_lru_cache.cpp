#include "core/lru_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dimple {
namespace {

TEST(LruCache, MakesEachKeyOnceAndKeepsTheMostRecentlyUsed) {
    LruCache<int, std::string> cache(2);
    int made = 0;
    auto make = [&](int k) { return [&made, k] { ++made; return std::to_string(10 * k); }; };
    EXPECT_EQ(cache.get(1, make(1)), "10");
    EXPECT_EQ(cache.get(2, make(2)), "20");
    EXPECT_EQ(cache.get(1, make(1)), "10");  // a hit: 1 is now the most recent
    EXPECT_EQ(made, 2);
    EXPECT_EQ(cache.get(3, make(3)), "30");  // evicts 2, the least recently used
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.get(1, make(1)), "10");
    EXPECT_EQ(made, 3);
    EXPECT_EQ(cache.get(2, make(2)), "20");  // made again
    EXPECT_EQ(made, 4);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(LruCache, AValueInUseOutlivesItsEviction) {
    LruCache<int, std::shared_ptr<int>> cache(1);
    std::shared_ptr<int> held = cache.get(7, [] { return std::make_shared<int>(70); });
    cache.get(8, [] { return std::make_shared<int>(80); });
    EXPECT_EQ(*held, 70);
    EXPECT_EQ(held.use_count(), 1);  // the cache no longer holds it
}

TEST(LruCache, ThreadsShareOneValuePerKey) {
    LruCache<int, std::shared_ptr<int>> cache(4);
    std::vector<std::thread> threads;
    std::vector<std::shared_ptr<int>> got(8);
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] { got[t] = cache.get(t % 2, [t] { return std::make_shared<int>(t % 2); }); });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 8; ++t) {
        EXPECT_EQ(*got[t], t % 2);
        EXPECT_EQ(got[t], got[t % 2]);  // one value per key, whichever thread made it
    }
}

}  // namespace
}  // namespace dimple
