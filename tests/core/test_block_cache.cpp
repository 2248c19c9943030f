#include "core/block_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/tensor.h"

namespace dimple {
namespace {

TEST(BlockCache, ReusesAFreedBlockOfTheSameSizeOnly) {
    block_cache::release();
    const size_t mib = size_t(1) << 20;
    void* a = block_cache::take(3 * mib);
    ASSERT_NE(a, nullptr);
    block_cache::give(a, 3 * mib);
    EXPECT_EQ(block_cache::kept_bytes(), 3 * mib);
    void* other = block_cache::take(2 * mib);  // another size: a new block
    EXPECT_NE(other, a);
    EXPECT_EQ(block_cache::take(3 * mib), a);  // the same size: the kept block
    EXPECT_EQ(block_cache::kept_bytes(), 0u);
    block_cache::give(a, 3 * mib);
    block_cache::give(other, 2 * mib);
    block_cache::release();
    EXPECT_EQ(block_cache::kept_bytes(), 0u);
}

TEST(BlockCache, KeepsNoMoreThanItsBoundAndNoSmallBlocks) {
    block_cache::release();
    const size_t big = block_cache::max_bytes() / 2 + 64;
    std::vector<void*> blocks{block_cache::take(big), block_cache::take(big), block_cache::take(1024)};
    for (void* p : blocks) ASSERT_NE(p, nullptr);
    block_cache::give(blocks[0], big);
    block_cache::give(blocks[1], big);  // both would pass the bound: the older one is freed
    block_cache::give(blocks[2], 1024);  // small: freed
    EXPECT_EQ(block_cache::kept_bytes(), big);
    EXPECT_EQ(block_cache::take(big), blocks[1]);
    block_cache::give(blocks[1], big);
    block_cache::release();
}

// Sizes that stop recurring (the logits of a step whose mask count is not seen again) make way for
// the ones freed since; they used to fill the cache for good (a 1024-step answer kept 512 MiB).
TEST(BlockCache, TheBlocksKeptLongestAreFreedFirst) {
    const size_t mib = size_t(1) << 20;
    block_cache::set_max_bytes(5 * mib);
    void* a = block_cache::take(2 * mib);
    void* b = block_cache::take(3 * mib);
    void* c = block_cache::take(mib + mib / 2);
    block_cache::give(a, 2 * mib);
    block_cache::give(b, 3 * mib);
    block_cache::give(c, mib + mib / 2);  // over the bound: `a`, kept longest, is freed
    EXPECT_EQ(block_cache::kept_bytes(), 4 * mib + mib / 2);
    EXPECT_EQ(block_cache::take(3 * mib), b);
    EXPECT_EQ(block_cache::take(mib + mib / 2), c);
    EXPECT_EQ(block_cache::kept_bytes(), 0u);
    block_cache::give(b, 3 * mib);
    block_cache::give(c, mib + mib / 2);
    block_cache::set_max_bytes(block_cache::kDefaultMaxBytes);
    EXPECT_EQ(block_cache::kept_bytes(), 0u);
}

TEST(BlockCache, ABoundOfZeroKeepsNothing) {
    block_cache::set_max_bytes(0);
    void* p = block_cache::take(2 << 20);
    block_cache::give(p, 2 << 20);
    EXPECT_EQ(block_cache::kept_bytes(), 0u);
    block_cache::set_max_bytes(block_cache::kDefaultMaxBytes);
}

TEST(BlockCache, AReusedTensorBufferIsZeroFilledAgain) {
    block_cache::release();
    const void* first = nullptr;
    {
        Tensor t = Tensor::f32({512, 1024});  // 2 MiB
        std::memset(t.raw(), 0x7f, t.nbytes());
        first = t.raw();
    }
    Tensor again = Tensor::f32({1024, 512});
    EXPECT_EQ(again.raw(), first);  // the same block, handed out again
    const float* f = again.data<float>();
    for (int64_t i = 0; i < again.numel(); ++i) ASSERT_EQ(f[i], 0.0f) << i;
    block_cache::release();
}

#if defined(__SANITIZE_ADDRESS__)
// A kept block is poisoned: reading a tensor's buffer after the tensor is gone is still caught.
TEST(BlockCacheDeathTest, AddressSanitizerSeesAKeptBlockAsFreed) {
    block_cache::release();
    float* stale = nullptr;
    {
        Tensor t = Tensor::f32({1 << 19});  // 2 MiB: kept when freed
        stale = t.data<float>();
    }
    EXPECT_DEATH({ volatile float x = stale[17]; (void)x; }, "use-after-poison");
    block_cache::release();
}
#endif

}  // namespace
}  // namespace dimple
