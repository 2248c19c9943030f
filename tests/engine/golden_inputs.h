// A golden set's recorded inputs as the engine takes them.
#pragma once

#include <string>
#include <vector>

#include "io/npy.h"
#include "vision/image.h"

namespace dtest {

inline std::vector<int64_t> ids_from_npy(const std::string& path) {
    const dimple::Tensor t = dimple::read_npy(path);
    return {t.data<int64_t>(), t.data<int64_t>() + t.numel()};
}

// An (H, W, 3) uint8 array as an RGB image.
inline dimple::Image image_from_npy(const std::string& path) {
    const dimple::Tensor t = dimple::read_npy(path);
    dimple::Image img;
    img.height = int(t.dim(0));
    img.width = int(t.dim(1));
    img.rgb.assign(t.data<uint8_t>(), t.data<uint8_t>() + t.numel());
    return img;
}

}  // namespace dtest
