// How much memory this process can still take before the machine (or its container) runs out:
// what the model loader plans against, so that a model that cannot fit fails before loading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dimple {

struct AvailableMemory {
    uint64_t bytes = 0;
    std::string source;  // what limited it: "MemAvailable", "cgroup v2 memory.max", ...
};

// MemAvailable from /proc/meminfo, capped by the room left under this process's cgroup limit
// (v2 memory.max, or v1 memory.limit_in_bytes), whichever is smaller.
AvailableMemory available_memory();

// This process's resident memory (VmRSS) and its peak so far (VmHWM), in bytes; 0 if unknown.
uint64_t resident_bytes();
uint64_t peak_resident_bytes();

// The parts, for tests. /proc/meminfo text -> MemAvailable in bytes.
std::optional<uint64_t> parse_mem_available(const std::string& meminfo);
// A cgroup's limit and usage files (v2 memory.max / memory.current, or v1 limit_in_bytes /
// usage_in_bytes) and its memory.stat -> the room left: limit - usage + inactive file pages (the
// page cache that the kernel reclaims first). No room figure when the limit is "max" or absurd.
std::optional<uint64_t> cgroup_room(const std::string& limit, const std::string& usage, const std::string& stat);

// "123", "512M", "16G", "1.5GiB" -> bytes; errors name `option`.
uint64_t parse_byte_size(const std::string& text, const std::string& option);
// 1536 MiB -> "1.50 GiB".
std::string human_bytes(double bytes);

}  // namespace dimple
