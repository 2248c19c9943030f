// Large, long-lived buffers (packed weights: gigabytes for a 7B/8B model) backed by transparent huge
// pages where the kernel offers them (THP "madvise" mode, Debian's default): filling them then costs
// one page fault per 2 MiB instead of one per 4 KiB, which dominated loading an int8 folder
// (perf: page faults and page clearing), and the products walk fewer TLB entries.
#pragma once

#include <cstddef>
#include <memory>

namespace dimple {

// Zeroed, writable, 2 MiB-aligned memory of at least `bytes`, released when the last owner goes;
// std::bad_alloc when the system has none. Below kHugePageMin bytes, huge pages would waste most of
// a page: the caller's usual allocator serves those.
constexpr size_t kHugePageMin = size_t(4) << 20;
std::shared_ptr<void> allocate_huge_pages(size_t bytes);

constexpr size_t kHugePage = size_t(2) << 20;
// `size` bytes of private anonymous address space with protection `prot`, starting on a 2 MiB
// boundary (the slack around it unmapped): for huge pages, or to map a file over (MAP_FIXED) so that
// its large page-cache folios can map whole. nullptr when the system has no room.
void* map_huge_aligned(size_t size, int prot);

}  // namespace dimple
