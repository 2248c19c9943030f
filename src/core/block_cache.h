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
// By default the cache keeps at most this many bytes (the oldest kept blocks are freed first).
constexpr size_t kDefaultMaxBytes = size_t(512) << 20;

// The size of the block that holds `bytes`: a multiple of 64, and for blocks the cache keeps one of
// 8 sizes per doubling (at most 12.5% more): buffers whose size changes a little from step to step
// (the logits of one row per mask, masks falling as tokens are committed) then reuse one block
// instead of each leaving a block of its own.
size_t block_size(size_t bytes);

// A kept block of exactly `bytes` (64-byte aligned), or a new one; nullptr when out of memory.
void* take(size_t bytes);
// Returns a block from take() of the same `bytes`: kept (freeing the blocks kept longest when the
// bound is passed), or freed when it alone is over the bound.
void give(void* block, size_t bytes);
// Frees every kept block (e.g. when a model is unloaded).
void release();
size_t kept_bytes();
// Changes the bound (0: keep nothing, every block goes back to malloc) and frees what is kept.
void set_max_bytes(size_t bytes);
size_t max_bytes();

}  // namespace dimple::block_cache
