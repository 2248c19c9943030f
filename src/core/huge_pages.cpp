#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace dimple {

void* map_huge_aligned(size_t size, int prot) {
    // Over-allocate by one huge page so that the region used starts on a 2 MiB boundary.
    void* raw = ::mmap(nullptr, size + kHugePage, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    char* base = static_cast<char*>(raw);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + kHugePage - 1) / kHugePage * kHugePage);
    const size_t head = size_t(aligned - base), tail = kHugePage - head;
    if (head) ::munmap(base, head);
    if (tail) ::munmap(aligned + size, tail);
    return aligned;
}

std::shared_ptr<void> allocate_huge_pages(size_t bytes) {
    const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* aligned = map_huge_aligned(size, PROT_READ | PROT_WRITE);
    if (!aligned) throw std::bad_alloc();
    ::madvise(aligned, size, MADV_HUGEPAGE);  // advice only: without THP the pages are 4 KiB, as before
    return std::shared_ptr<void>(aligned, [size](void* p) { ::munmap(p, size); });
}

}  // namespace dimple
