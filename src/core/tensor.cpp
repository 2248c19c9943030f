#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/block_cache.h"
#include "core/error.h"
#include "core/memory.h"

namespace dimple {

int64_t shape_numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

std::string shape_str(const Shape& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

static Shape contiguous_strides(const Shape& shape) {
    Shape strides(shape.size());
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= shape[i];
    }
    return strides;
}

std::shared_ptr<Storage> Storage::allocate(size_t bytes) {
    const size_t rounded = block_cache::block_size(bytes);
    void* p = block_cache::take(rounded);
    check(p != nullptr, "out of memory: cannot allocate ", human_bytes(double(bytes)), " for a tensor");
    std::memset(p, 0, bytes);
    auto s = std::make_shared<Storage>();
    s->data = p;
    s->bytes = bytes;
    s->keepalive = std::shared_ptr<void>(p, [rounded](void* block) { block_cache::give(block, rounded); });
    return s;
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t bytes, std::shared_ptr<void> keepalive) {
    auto s = std::make_shared<Storage>();
    s->data = data;
    s->bytes = bytes;
    s->keepalive = std::move(keepalive);
    return s;
}

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), strides_(contiguous_strides(shape_)) {
    for (int64_t d : shape_) check(d >= 0, "negative dimension in shape ", shape_str(shape_));
    storage_ = Storage::allocate(nbytes());
}

Tensor::Tensor(DType dtype, Shape shape, std::shared_ptr<Storage> storage, size_t offset)
    : dtype_(dtype), shape_(std::move(shape)), strides_(contiguous_strides(shape_)),
      storage_(std::move(storage)), offset_(offset) {
    check(offset_ + nbytes() <= storage_->bytes, "tensor view ", shape_str(shape_), " at byte ",
          offset_, " overruns its storage of ", storage_->bytes, " bytes");
}

Tensor Tensor::from(std::span<const float> values, Shape shape) {
    Tensor t(DType::F32, std::move(shape));
    check(size_t(t.numel()) == values.size(), "Tensor::from: ", values.size(),
          " values for shape ", shape_str(t.shape()));
    std::memcpy(t.raw(), values.data(), values.size() * 4);
    return t;
}

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

Tensor Tensor::reshape(Shape shape) const {
    check(is_contiguous(), "reshape of a non-contiguous tensor");
    check(shape_numel(shape) == numel(), "cannot reshape ", shape_str(shape_), " to ",
          shape_str(shape));
    return Tensor(dtype_, std::move(shape), storage_, offset_);
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
    check(is_contiguous() && ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0],
          "bad row slice [", begin, ", ", end, ") of ", shape_str(shape_));
    Shape s = shape_;
    s[0] = end - begin;
    int64_t row_elems = 1;
    for (size_t i = 1; i < s.size(); ++i) row_elems *= s[i];
    const size_t row_bytes = size_t(row_elems) * dtype_size(dtype_);
    return Tensor(dtype_, std::move(s), storage_, offset_ + size_t(begin) * row_bytes);
}

Tensor Tensor::to_f32() const {
    check(is_contiguous(), "to_f32 of a non-contiguous tensor");
    Tensor out(DType::F32, shape_);
    convert_to_f32(dtype_, raw(), out.data<float>(), size_t(numel()));
    return out;
}

Tensor Tensor::concat_rows(const std::vector<Tensor>& parts) {
    check(!parts.empty(), "concat_rows: no parts");
    Shape shape = parts[0].shape();
    check(!shape.empty(), "concat_rows: scalar parts");
    shape[0] = 0;
    for (const Tensor& p : parts) {
        Shape s = p.shape();
        check(p.is_contiguous() && p.dtype() == parts[0].dtype() && s.size() == shape.size() &&
                  std::equal(s.begin() + 1, s.end(), shape.begin() + 1),
              "concat_rows: ", shape_str(s), " ", dtype_name(p.dtype()), " does not stack on ",
              shape_str(parts[0].shape()), " ", dtype_name(parts[0].dtype()));
        shape[0] += s[0];
    }
    Tensor out(parts[0].dtype(), shape);
    char* dst = static_cast<char*>(out.raw());
    for (const Tensor& p : parts) {
        std::memcpy(dst, p.raw(), p.nbytes());
        dst += p.nbytes();
    }
    return out;
}

Tensor Tensor::clone() const {
    check(is_contiguous(), "clone of a non-contiguous tensor");
    Tensor out(dtype_, shape_);
    std::memcpy(out.raw(), raw(), nbytes());
    return out;
}

}  // namespace dimple
