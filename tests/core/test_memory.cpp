#include <gtest/gtest.h>

#include "core/error.h"
#include "core/memory.h"

using namespace dimple;

TEST(Memory, ReadsMemAvailable) {
    const std::string meminfo = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
    EXPECT_EQ(parse_mem_available(meminfo), uint64_t(20000000) * 1024);
    EXPECT_FALSE(parse_mem_available("MemTotal: 5 kB\n").has_value());
}

TEST(Memory, CgroupRoomCountsReclaimableCacheAsFree) {
    // v2: 8 GiB limit, 6 GiB charged of which 2 GiB inactive file cache -> 4 GiB room.
    const uint64_t G = uint64_t(1) << 30;
    EXPECT_EQ(cgroup_room(std::to_string(8 * G) + "\n", std::to_string(6 * G), "anon 1\ninactive_file " + std::to_string(2 * G) + "\n"),
              4 * G);
    EXPECT_FALSE(cgroup_room("max\n", "12345", "").has_value());
    // v1: "unlimited" is a huge number; a parent's smaller limit counts.
    EXPECT_FALSE(cgroup_room("9223372036854771712", "100", "").has_value());
    EXPECT_EQ(cgroup_room("9223372036854771712", std::to_string(G), "hierarchical_memory_limit " + std::to_string(3 * G) +
                                                                          "\ntotal_inactive_file 0\n"),
              2 * G);
    EXPECT_EQ(cgroup_room(std::to_string(G), std::to_string(2 * G), ""), 0u);  // over the limit
}

TEST(Memory, AvailableIsPositiveHere) {
    const AvailableMemory a = available_memory();
    EXPECT_GT(a.bytes, uint64_t(1) << 20);
    EXPECT_FALSE(a.source.empty());
}

TEST(Memory, ParsesByteSizes) {
    EXPECT_EQ(parse_byte_size("123", "--x"), 123u);
    EXPECT_EQ(parse_byte_size("512M", "--x"), uint64_t(512) << 20);
    EXPECT_EQ(parse_byte_size("16G", "--x"), uint64_t(16) << 30);
    EXPECT_EQ(parse_byte_size("1.5GiB", "--x"), uint64_t(3) << 29);
    for (const char* bad : {"", "abc", "12Q", "-5G", "0"}) EXPECT_THROW(parse_byte_size(bad, "--x"), Error) << bad;
    EXPECT_EQ(human_bytes(1536.0 * 1024 * 1024), "1.50 GiB");
}
