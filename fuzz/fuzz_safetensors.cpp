// Feeds arbitrary bytes to the safetensors header parser: it must either accept them with every
// tensor inside the data, or throw dimple::Error; never crash or read out of bounds.
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto h = dimple::parse_safetensors_header(data, size, size, "fuzz");
        for (const auto& t : h.tensors)
            if (h.data_offset + t.end > size) std::abort();
    } catch (const dimple::Error&) {
    }
    return 0;
}
