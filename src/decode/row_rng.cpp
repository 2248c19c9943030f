// row_rng of decode/sampling.h: no vector code, so it stays out of sampling.cpp's per-instruction-set
// copies.
#include "decode/sampling.h"

namespace dimple {

namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

Rng row_rng(uint64_t seed, int64_t step, int64_t row) {
    return Rng(splitmix64(splitmix64(splitmix64(seed) ^ uint64_t(step)) ^ uint64_t(row)));
}

}  // namespace dimple
