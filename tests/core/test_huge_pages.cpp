// Huge-page buffers for packed weights (core/huge_pages.h): aligned, zeroed, writable to their last
// byte, independent of one another, and given back.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "core/huge_pages.h"
#include "core/memory.h"

using namespace dimple;

TEST(HugePages, BuffersAreAlignedZeroedAndWritable) {
    const size_t bytes = kHugePageMin + 12345;  // not a multiple of the page
    std::shared_ptr<void> a = allocate_huge_pages(bytes), b = allocate_huge_pages(bytes);
    ASSERT_NE(a.get(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.get()) % (size_t(2) << 20), 0u);
    auto* p = static_cast<unsigned char*>(a.get());
    auto* q = static_cast<unsigned char*>(b.get());
    EXPECT_EQ(p[0], 0);
    EXPECT_EQ(p[bytes - 1], 0);
    std::memset(p, 0xab, bytes);
    EXPECT_EQ(q[bytes / 2], 0);  // a separate buffer
    EXPECT_EQ(p[bytes - 1], 0xab);
}

TEST(HugePages, ReleasedBuffersLeaveTheProcess) {
    const uint64_t before = resident_bytes();
    {
        std::shared_ptr<void> big = allocate_huge_pages(size_t(64) << 20);
        std::memset(big.get(), 1, size_t(64) << 20);
        EXPECT_GE(resident_bytes(), before + (uint64_t(48) << 20));
    }
    EXPECT_LT(resident_bytes(), before + (uint64_t(16) << 20));
}
