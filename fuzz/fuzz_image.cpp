// Feeds arbitrary bytes to the image decoders and, when a picture comes out, to the preprocessor:
// each input must give either a well-formed picture within the limits or a dimple::Error; never a
// crash, a leak or an out-of-bounds access. Small limits keep each run fast.
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "vision/image.h"
#include "vision/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    dimple::ImageLimits limits;
    limits.max_side = 1024;
    limits.max_pixels = 1 << 16;
    try {
        const dimple::Image img = dimple::decode_image({data, size}, "fuzz", limits);
        if (img.width <= 0 || img.height <= 0 || img.width > limits.max_side || img.height > limits.max_side ||
            int64_t(img.width) * img.height > limits.max_pixels ||
            img.rgb.size() != size_t(img.width) * size_t(img.height) * 3)
            std::abort();
        dimple::PreprocessorConfig config;
        config.max_pixels = 112 * 112;
        const dimple::PixelValues pv = dimple::preprocess_image(img, config);
        if (pv.values.dim(0) != pv.grid.t * pv.grid.h * pv.grid.w || pv.values.numel() == 0) std::abort();
    } catch (const dimple::Error&) {
    }
    return 0;
}
