#include "core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace dimple {

std::shared_ptr<void> allocate_huge_pages(size_t bytes) {
    constexpr size_t huge = size_t(2) << 20;
    const size_t size = (bytes + huge - 1) / huge * huge;
    // Over-allocate by one huge page so that the region used starts on a 2 MiB boundary.
    void* raw = ::mmap(nullptr, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(raw);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + huge - 1) / huge * huge);
    const size_t head = size_t(aligned - base), tail = huge - head;
    if (head) ::munmap(base, head);
    if (tail) ::munmap(aligned + size, tail);
    ::madvise(aligned, size, MADV_HUGEPAGE);  // advice only: without THP the pages are 4 KiB, as before
    return std::shared_ptr<void>(aligned, [size](void* p) { ::munmap(p, size); });
}

}  // namespace dimple
