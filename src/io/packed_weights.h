// model.packed: a folder's int8 linear weights in the layout this machine's products read, written by
// `dimple quantize --packed`. Loading an int8 folder otherwise repacks every weight (reads 8 GB,
// writes 8 GB of fresh memory for a 7B model); with this file it maps them, and the page cache is
// the model's memory. Only a cache: a layer whose layout or scales differ (another CPU or oneDNN,
// the weights re-quantized) loads from model.safetensors as before.
//
// Format (little-endian): "DIMPACK1", the layers' data each at a 2 MiB-aligned offset (huge pages
// can map them), a JSON index, then the index's offset and length (u64 each) and "DIMPACK1" again.
// The index: {"layers": {KEY: {"offset", "bytes", "layout", "colsum", "out", "scales"}}}, where KEY
// names the layer (stacked layers: their names joined by '+'), layout is int8_weight_layout(),
// colsum the offset of its [out] int32 column sums, and scales a hash of its f32 scales.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/matmul.h"

namespace dimple {

class MappedFile;

inline constexpr const char* kPackedWeightsFile = "model.packed";

// 64-bit FNV-1a of a layer's scales: ties the packed bytes to the weights they were made from.
std::string scales_hash(const Tensor& scales);

class PackedWeights {
public:
    // The file at `path`, validated (an Error naming it when it is not a whole, well-formed file).
    explicit PackedWeights(const std::string& path);

    // The layer `key` when stored with these scales, else nullptr; whether its layout suits this
    // machine is Linear's check (kernels/matmul.h).
    const PrepackedInt8* find(const std::string& key, const Tensor& scales) const;
    size_t size() const { return layers_.size(); }

private:
    struct Layer {
        PrepackedInt8 weights;
        std::string scales;
    };
    std::shared_ptr<MappedFile> map_;
    std::map<std::string, Layer> layers_;
};

// Writes model.packed layer by layer (to `path`.tmp, renamed by finish()).
class PackedWeightsWriter {
public:
    explicit PackedWeightsWriter(const std::string& path);
    ~PackedWeightsWriter();
    PackedWeightsWriter(const PackedWeightsWriter&) = delete;
    PackedWeightsWriter& operator=(const PackedWeightsWriter&) = delete;

    void add(const std::string& key, const PrepackedInt8& weights, int64_t out, const Tensor& scales);
    size_t layers() const { return entries_.size(); }
    void finish();

private:
    struct Entry {
        std::string key, layout, scales;
        uint64_t offset = 0, bytes = 0, colsum = 0;
        int64_t out = 0;
    };
    uint64_t append(const void* data, size_t bytes, uint64_t align);

    std::string path_, tmp_;
    int fd_ = -1;
    uint64_t end_ = 0;
    std::vector<Entry> entries_;
};

}  // namespace dimple
