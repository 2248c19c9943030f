// An image's grid of 14-pixel patches (t frames, h rows, w columns): what preprocessing produces,
// the vision encoder lays out, and M-RoPE positions count.
#pragma once

#include <cstdint>

namespace dimple {

struct ImageGrid {
    int64_t t = 1, h = 0, w = 0;
};

}  // namespace dimple
