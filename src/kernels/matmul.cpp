#include "kernels/matmul.h"

#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "kernels/onednn.h"

namespace dimple {

dnnl::engine& onednn_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

dnnl::stream& onednn_stream() {
    thread_local dnnl::stream stream(onednn_engine());
    return stream;
}

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// The row count oneDNN is asked about when choosing a weight layout. Layouts depend on N and K,
// and the one chosen here serves every row count (measured in bench/matmul_bench).
constexpr int64_t kLayoutRows = 128;

dnnl::matmul::primitive_desc make_pd(int64_t m, int64_t k, int64_t n, dt src_t,
                                     const dnnl::memory::desc& wei, bool bias) {
    dnnl::memory::desc src({m, k}, src_t, tag::ab);
    dnnl::memory::desc dst({m, n}, dt::f32, tag::ab);
    if (bias) {
        dnnl::memory::desc b({1, n}, dt::f32, tag::ab);
        return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, b, dst), onednn_engine());
    }
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), onednn_engine());
}

}  // namespace

// Packed weights plus one compiled primitive per row count seen (diffusion decoding runs the same
// shapes every step, so the cache stays small).
struct Linear::Packed {
    dt type;
    dnnl::memory::desc desc;
    dnnl::memory memory;
    std::mutex mutex;
    std::map<int64_t, dnnl::matmul> primitives;

    const dnnl::matmul& primitive(int64_t m, int64_t k, int64_t n, bool bias) {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = primitives.find(m);
        if (it == primitives.end())
            it = primitives.emplace(m, dnnl::matmul(make_pd(m, k, n, type, desc, bias))).first;
        return it->second;
    }
};

Compute parse_compute(const std::string& s) {
    if (s == "f32") return Compute::F32;
    if (s == "bf16") return Compute::BF16;
    if (s == "auto") return default_compute();
    fail("unknown compute mode '", s, "' (expected f32, bf16 or auto)");
}

std::string compute_name(Compute c) { return c == Compute::F32 ? "f32" : "bf16"; }

bool cpu_has_bf16() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
}

Compute default_compute() { return cpu_has_bf16() ? Compute::BF16 : Compute::F32; }

Linear::Linear(const Tensor& weight, const Tensor* bias, Compute compute)
    : in_(weight.dim(1)), out_(weight.dim(0)), compute_(compute), packed_(std::make_shared<Packed>()) {
    check(weight.ndim() == 2, "Linear: weight must be 2-D, got ", shape_str(weight.shape()));
    packed_->type = compute == Compute::BF16 ? dt::bf16 : dt::f32;

    // Source: the weight as [in, out] viewed through strides of the [out, in] row-major data.
    Tensor w = weight;
    if (w.dtype() != DType::F32 && !(w.dtype() == DType::BF16 && compute == Compute::BF16))
        w = w.to_f32();
    if (w.dtype() == DType::F32 && compute == Compute::BF16) {
        Tensor b(DType::BF16, w.shape());
        convert_f32_to_bf16(w.data<float>(), b.data<uint16_t>(), size_t(w.numel()));
        w = b;
    }
    dnnl::memory::desc user_desc({in_, out_}, packed_->type, tag::ba);
    dnnl::memory::desc any_desc({in_, out_}, packed_->type, tag::any);
    packed_->desc = make_pd(kLayoutRows, in_, out_, packed_->type, any_desc, bias != nullptr)
                        .weights_desc();
    packed_->memory = dnnl::memory(packed_->desc, onednn_engine());
    dnnl::memory user(user_desc, onednn_engine(), const_cast<void*>(w.raw()));
    dnnl::reorder(user, packed_->memory).execute(onednn_stream(), user, packed_->memory);
    onednn_stream().wait();

    if (bias) {
        check(bias->ndim() == 1 && bias->dim(0) == out_, "Linear: bias shape ",
              shape_str(bias->shape()), " does not match ", out_, " outputs");
        bias_ = bias->to_f32();
    }
}

size_t Linear::weight_bytes() const { return packed_ ? packed_->desc.get_size() : 0; }

void Linear::forward(const float* x, int64_t rows, float* y) const {
    if (rows == 0) return;
    const dnnl::matmul& mm = packed_->primitive(rows, in_, out_, has_bias());
    std::vector<uint16_t> x_bf16;
    void* src_ptr = const_cast<float*>(x);
    if (compute_ == Compute::BF16) {
        x_bf16.resize(size_t(rows * in_));
        convert_f32_to_bf16(x, x_bf16.data(), x_bf16.size());
        src_ptr = x_bf16.data();
    }
    dnnl::memory src({{rows, in_}, packed_->type, tag::ab}, onednn_engine(), src_ptr);
    dnnl::memory dst({{rows, out_}, dt::f32, tag::ab}, onednn_engine(), y);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed_->memory}, {DNNL_ARG_DST, dst}};
    if (has_bias())
        args[DNNL_ARG_BIAS] = dnnl::memory({{1, out_}, dt::f32, tag::ab}, onednn_engine(),
                                           const_cast<void*>(bias_.raw()));
    mm.execute(onednn_stream(), args);
    onednn_stream().wait();
}

Tensor Linear::forward(const Tensor& x) const {
    check(x.dtype() == DType::F32 && x.is_contiguous() && x.dim(-1) == in_,
          "Linear: input ", shape_str(x.shape()), " does not end in ", in_, " features");
    Shape s = x.shape();
    s.back() = out_;
    Tensor y(DType::F32, s);
    forward(x.data<float>(), x.numel() / in_, y.data<float>());
    return y;
}

}  // namespace dimple
