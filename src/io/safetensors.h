// safetensors files: an 8-byte little-endian header length, a JSON header that names each tensor's
// dtype, shape and byte range, then the data. Everything read from disk is validated before use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace dimple {

struct TensorEntry {
    std::string name;
    DType dtype;
    Shape shape;
    size_t begin = 0, end = 0;  // byte range inside the data section
};

struct SafetensorsHeader {
    std::vector<TensorEntry> tensors;  // in file order of their data
    std::map<std::string, std::string> metadata;
    size_t data_offset = 0;  // where the data section starts in the file
};

// Parses and validates the header of a safetensors file held in `bytes` (the whole file, or at
// least its header: `file_size` is the real size). `label` names the file in error messages.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t available, size_t file_size,
                                           const std::string& label);

// Serialises named tensors into safetensors bytes (header padded to 8 bytes, data in order).
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors);

// The leading bytes of a safetensors file (length + padded JSON header) whose tensors' data
// follow in the given order: for writers that stream the data instead of holding it.
struct TensorLayout {
    std::string name;
    DType dtype;
    Shape shape;
};
std::string safetensors_header(const std::vector<TensorLayout>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

// A read-only memory map of a whole file.
class MappedFile {
public:
    // With `resident`, the mapping starts on a 2 MiB boundary and asks for huge pages (the page
    // cache's large folios map whole where the kernel has them), and every page is mapped now, by
    // all threads, instead of faulting one by one in the first products.
    explicit MappedFile(const std::string& path, bool resident = false);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }
    // Tells the kernel the pages of [offset, offset+bytes) will not be read again, so the memory
    // they occupy returns to the page cache once weights have been repacked elsewhere.
    void release(size_t offset, size_t bytes) const;

private:
    std::string path_;
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
    size_t mapped_ = 0;  // bytes of address space held from data_ (the alignment's slack trimmed)
};

class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::string& path);
    const SafetensorsHeader& header() const { return header_; }
    const std::string& path() const { return map_->path(); }
    // A tensor viewing the mapped bytes (no copy).
    Tensor view(const TensorEntry& e) const;
    void release(const TensorEntry& e) const;
    // Only bytes [begin, begin + bytes) of the tensor's data.
    void release_bytes(const TensorEntry& e, size_t begin, size_t bytes) const;

private:
    std::shared_ptr<MappedFile> map_;
    std::shared_ptr<Storage> storage_;
    SafetensorsHeader header_;
};

}  // namespace dimple
