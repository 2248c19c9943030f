// A Hugging Face model folder's weights: `model.safetensors`, or the shards that
// `model.safetensors.index.json` lists. Tensors are looked up by name and viewed in place (mmap).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/packed_weights.h"
#include "io/safetensors.h"

namespace dimple {

class Checkpoint {
public:
    explicit Checkpoint(const std::string& dir);

    bool has(const std::string& name) const { return index_.count(name) != 0; }
    // The named tensor, checked against the expected shape; errors name the file and tensor.
    Tensor get(const std::string& name, const Shape& expected) const;
    // A linear layer's weight `name.weight` as published (F32/F16/BF16), or int8 with its per-row f32
    // scales `name.weight_scale` (a checkpoint written by `dimple quantize`). `expected` is the
    // weight's shape, [out, ...]; the scales are [out].
    struct LinearWeight {
        Tensor weight, scale;  // scale: empty unless the weight is I8
    };
    LinearWeight linear_weight(const std::string& name, const Shape& expected) const;
    // The same as int8: the stored one, or the published weight quantized here (core/int8.h) a
    // block of rows at a time, each block's mapped pages dropped once read, so that quantizing
    // costs about the int8 copy, not the published tensor too.
    LinearWeight linear_weight_int8(const std::string& name, const Shape& expected) const;
    // Drops the mapped pages of a tensor that has been copied or repacked elsewhere.
    void release(const std::string& name) const;

    struct Item {
        std::string name;
        const SafetensorsFile* file;
        const TensorEntry* entry;
    };
    std::vector<Item> items() const;  // sorted by name
    size_t file_bytes() const;        // total size of the weight files on disk
    const std::string& dir() const { return dir_; }

    // The folder's model.packed (io/packed_weights.h) when it has one, mapped on the first call (an
    // int8 load) so that other uses of the folder do not read it; an Error when it is damaged.
    const PackedWeights* packed() const;
    // Loading through io/stacked_linear.h then stores every int8 layer it packs into `writer`
    // (`dimple quantize --packed`) and reads none from model.packed.
    void record_packed(PackedWeightsWriter* writer);
    PackedWeightsWriter* packed_writer() const { return writer_; }

private:
    Tensor view(const std::string& name, const Shape& expected, bool allow_int8) const;

    std::string dir_;
    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, std::pair<const SafetensorsFile*, const TensorEntry*>> index_;
    mutable std::unique_ptr<PackedWeights> packed_;
    mutable bool packed_opened_ = false;
    PackedWeightsWriter* writer_ = nullptr;
};

}  // namespace dimple
