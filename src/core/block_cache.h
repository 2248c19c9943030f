// Large tensor buffers, kept for reuse when freed instead of going back to the system.
//
// glibc serves big blocks with mmap and unmaps them on free, so every decoding step used to fault
// its large temporaries (the MLP's [tokens, 18944] products at Dream-7B width, the lm_head's
// logits) in afresh, page by page, and the kernel zeroed each page before our own zero fill. A
// diffusion step repeats the previous step's shapes, so blocks reused by exact size hit every time.
#pragma once

#include <cstddef>

namespace dimple::block_cache {

// Blocks smaller than this are left to malloc (which reuses them without faults).
constexpr size_t kMinBytes = size_t(1) << 20;
// By default the cache frees what it would keep beyond this many bytes.
constexpr size_t kDefaultMaxBytes = size_t(512) << 20;

// A kept block of exactly `bytes` (64-byte aligned), or a new one; nullptr when out of memory.
void* take(size_t bytes);
// Returns a block from take() of the same `bytes`: kept while the cache has room, else freed.
void give(void* block, size_t bytes);
// Frees every kept block (e.g. when a model is unloaded).
void release();
size_t kept_bytes();
// Changes the bound (0: keep nothing, every block goes back to malloc) and frees what is kept.
void set_max_bytes(size_t bytes);
size_t max_bytes();

}  // namespace dimple::block_cache
