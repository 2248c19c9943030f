// A small n-dimensional tensor: shape, element type, strides (in elements) and shared storage that
// is either owned (heap, 64-byte aligned) or borrowed from a memory-mapped checkpoint.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace dimple {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);

// Bytes that some tensor views look into. Owned buffers free themselves; mapped ones keep the
// mapping alive through `keepalive`.
struct Storage {
    void* data = nullptr;
    size_t bytes = 0;
    std::shared_ptr<void> keepalive;

    static std::shared_ptr<Storage> allocate(size_t bytes);
    static std::shared_ptr<Storage> borrow(void* data, size_t bytes, std::shared_ptr<void> keepalive);
};

class Tensor {
public:
    Tensor() = default;
    // A new zero-filled contiguous tensor.
    Tensor(DType dtype, Shape shape);
    // A contiguous view into storage at a byte offset.
    Tensor(DType dtype, Shape shape, std::shared_ptr<Storage> storage, size_t offset);

    static Tensor f32(Shape shape) { return Tensor(DType::F32, std::move(shape)); }
    static Tensor from(std::span<const float> values, Shape shape);

    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    const Shape& strides() const { return strides_; }
    int ndim() const { return int(shape_.size()); }
    int64_t dim(int i) const { return shape_[size_t(i < 0 ? i + ndim() : i)]; }
    int64_t numel() const { return shape_numel(shape_); }
    size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }
    bool empty() const { return storage_ == nullptr; }
    bool is_contiguous() const;

    void* raw() { return static_cast<char*>(storage_->data) + offset_; }
    const void* raw() const { return static_cast<const char*>(storage_->data) + offset_; }
    template <typename T> T* data() { return static_cast<T*>(raw()); }
    template <typename T> const T* data() const { return static_cast<const T*>(raw()); }
    // Row r of a contiguous tensor viewed as [rows, last dim].
    float* row(int64_t r) { return data<float>() + r * shape_.back(); }
    const float* row(int64_t r) const { return data<float>() + r * shape_.back(); }

    // The same bytes with another shape (contiguous tensors only; element count must match).
    Tensor reshape(Shape shape) const;
    // Rows [begin, end) along the first dimension: a view, no copy.
    Tensor slice_rows(int64_t begin, int64_t end) const;
    // A contiguous copy converted to f32 (f32/f16/bf16 sources).
    Tensor to_f32() const;
    Tensor clone() const;

    // Contiguous tensors of one dtype and equal trailing dims, one after another along dim 0.
    static Tensor concat_rows(const std::vector<Tensor>& parts);

private:
    DType dtype_ = DType::F32;
    Shape shape_;
    Shape strides_;
    std::shared_ptr<Storage> storage_;
    size_t offset_ = 0;
};

}  // namespace dimple
