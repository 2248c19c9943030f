#include "kernels/matmul.h"

#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/huge_pages.h"
#include "core/lru_cache.h"
#include "kernels/onednn.h"

namespace dimple {

// oneDNN keeps every primitive it compiled in a process-wide cache of 1024 by default, a few hundred
// KiB of generated code each. Each Linear keeps the primitives it uses in its own LRU (below); the
// global cache only lets layers of one shape share them, which kKeptPrimitives covers. At 1024, the
// logits product compiled for every mask count a long answer passes through (one per step) stayed
// cached: 360 MiB after one 1024-step answer of the shipped model.
constexpr int kKeptPrimitives = 128;

dnnl::engine& onednn_engine() {
    static dnnl::engine engine = [] {
        dnnl::set_primitive_cache_capacity(kKeptPrimitives);
        return dnnl::engine(dnnl::engine::kind::cpu, 0);
    }();
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

// int8 products: u8 activations x s8 weights -> s32 sums (dequantized by our own pass, which also
// adds the bias); float products: f32 output with the bias added by oneDNN.
dnnl::matmul::primitive_desc make_pd(int64_t m, int64_t k, int64_t n, dt src_t,
                                     const dnnl::memory::desc& wei, bool bias) {
    const bool int8 = src_t == dt::u8;
    dnnl::memory::desc src({m, k}, src_t, tag::ab);
    dnnl::memory::desc dst({m, n}, int8 ? dt::s32 : dt::f32, tag::ab);
    if (bias && !int8) {
        dnnl::memory::desc b({1, n}, dt::f32, tag::ab);
        return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, b, dst), onednn_engine());
    }
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), onednn_engine());
}

// oneDNN reports a failed allocation as a dnnl::error; say what could not be allocated instead.
dnnl::memory allocate(const dnnl::memory::desc& d, int64_t out, int64_t in) {
    try {
        return dnnl::memory(d, onednn_engine());
    } catch (const dnnl::error& e) {
        if (e.status == dnnl_out_of_memory) throw std::bad_alloc();
        fail("oneDNN cannot hold the ", out, "x", in, " weights: ", e.what());
    }
}

}  // namespace

// Packed weights plus compiled primitives for the row counts used most recently (diffusion decoding
// runs the same shapes every step; a server's prompt lengths vary, hence the bound). int8 layers
// also keep the per-channel scales and the column sums of the quantized weights (to take the
// activations' zero points back out).
struct Linear::Packed {
    dt src_type, wei_type;
    dnnl::memory::desc desc;
    dnnl::memory memory;
    std::shared_ptr<const void> storage;  // the weights' huge-page buffer or mapped file, when they have one
    std::vector<float> scale;
    std::vector<int32_t> colsum;
    ActivationCode code;
    // A step with prefilling runs 2 row counts per layer (the prompt once, then the answer rows);
    // batched serving adds one per batch composition.
    LruCache<int64_t, dnnl::matmul> primitives{16};

    dnnl::matmul primitive(int64_t m, int64_t k, int64_t n, bool bias) {
        return primitives.get(m, [&] { return dnnl::matmul(make_pd(m, k, n, src_type, desc, bias)); });
    }

    // u8 activations (7-bit without VNNI: no 16-bit saturation) x s8 weights.
    void set_int8() {
        src_type = dt::u8;
        wei_type = dt::s8;
        code = ActivationCode{cpu_has_int8_dot() ? 255 : 127};
    }

    // oneDNN's layout for [in, out] weights.
    void choose_layout(int64_t in, int64_t out, bool bias) {
        dnnl::memory::desc any_desc({in, out}, wei_type, tag::any);
        desc = make_pd(kLayoutRows, in, out, src_type, any_desc, bias).weights_desc();
    }

    // Picks the layout and reorders `user` ([out, in] row-major data of type `type`) into it.
    void pack(const void* user_data, dt type, int64_t in, int64_t out, bool bias) {
        choose_layout(in, out, bias);
        if (desc.get_size() >= kHugePageMin) {
            std::shared_ptr<void> buffer = allocate_huge_pages(desc.get_size());
            memory = dnnl::memory(desc, onednn_engine(), buffer.get());
            storage = std::move(buffer);
        } else {
            memory = allocate(desc, out, in);
        }
        dnnl::memory user({{in, out}, type, tag::ba}, onednn_engine(), const_cast<void*>(user_data));
        dnnl::reorder(user, memory).execute(onednn_stream(), user, memory);
        onednn_stream().wait();
    }
};

namespace {

// Everything of a memory descriptor that decides where each weight's byte lies (oneDNN 2.x's
// descriptor is a plain struct), so that equal text means equal bytes.
std::string describe_layout(const dnnl::memory::desc& d) {
    const dnnl_memory_desc_t& m = d.data;
    const dnnl_version_t* v = dnnl_version();
    std::ostringstream s;
    s << "onednn " << v->major << '.' << v->minor << '.' << v->patch << " type " << int(m.data_type) << " dims";
    auto list = [&](const char* what, const dnnl_dims_t& a, int n) {
        s << ' ' << what;
        for (int i = 0; i < n; ++i) s << (i ? "," : "") << a[i];
    };
    list("", m.dims, m.ndims);
    list("padded", m.padded_dims, m.ndims);
    list("offsets", m.padded_offsets, m.ndims);
    s << " offset0 " << m.offset0;
    if (m.format_kind != dnnl_blocked) return s.str() + " format " + std::to_string(int(m.format_kind));
    const dnnl_blocking_desc_t& b = m.format_desc.blocking;
    list("strides", b.strides, m.ndims);
    list("blocks", b.inner_blks, b.inner_nblks);
    list("of", b.inner_idxs, b.inner_nblks);
    s << " extra " << m.extra.flags << ',' << m.extra.compensation_mask << ',' << m.extra.scale_adjust << ','
      << m.extra.asymm_compensation_mask << " bytes " << d.get_size();
    return s.str();
}

}  // namespace

Compute parse_compute(const std::string& s) {
    if (s == "f32") return Compute::F32;
    if (s == "bf16") return Compute::BF16;
    if (s == "int8") return Compute::Int8;
    if (s == "auto") return Compute::Auto;
    fail("unknown compute mode '", s, "' (expected f32, bf16, int8 or auto)");
}

std::string compute_name(Compute c) {
    switch (c) {
        case Compute::F32: return "f32";
        case Compute::BF16: return "bf16";
        case Compute::Int8: return "int8";
        case Compute::Auto: return "auto";
    }
    return "?";
}

namespace {

// oneDNN's ISA levels are nested bit masks: a CPU has a level when it has all of its bits.
bool onednn_isa_at_least(dnnl::cpu_isa level) {
    const unsigned have = unsigned(dnnl::get_effective_cpu_isa()), want = unsigned(level);
    return (have & want) == want;
}

}  // namespace

// avx2_vnni is left out: whether oneDNN 2.6 uses it for these products is not documented, so such
// CPUs keep the 7-bit activations that are safe everywhere.
bool cpu_has_int8_dot() { return onednn_isa_at_least(dnnl::cpu_isa::avx512_core_vnni); }

bool cpu_has_bf16_products() { return onednn_isa_at_least(dnnl::cpu_isa::avx512_core); }

bool cpu_has_bf16() { return onednn_isa_at_least(dnnl::cpu_isa::avx512_core_bf16); }

Compute default_compute() { return cpu_has_bf16() ? Compute::BF16 : Compute::F32; }

Linear::Linear(const Tensor& weight, const Tensor* bias, Compute compute)
    : Linear(weight, nullptr, bias, compute) {}

std::string int8_weight_layout(int64_t in, int64_t out) {
    Linear::Packed p;
    p.set_int8();
    p.choose_layout(in, out, false);
    return describe_layout(p.desc);
}

Linear::Linear(const PrepackedInt8& weight, int64_t in, int64_t out, const Tensor& weight_scale, const Tensor* bias)
    : in_(in), out_(out), compute_(Compute::Int8), packed_(std::make_shared<Packed>()) {
    Packed& p = *packed_;
    p.set_int8();
    p.choose_layout(in, out, false);
    check(weight.layout == describe_layout(p.desc) && weight.bytes == p.desc.get_size(),
          "Linear: int8 weights packed for another layout (", weight.layout, "), this machine's is ",
          describe_layout(p.desc));
    check(weight_scale.dtype() == DType::F32 && weight_scale.numel() == out, "Linear: weight scales ",
          shape_str(weight_scale.shape()), " do not match ", out, " outputs (expected F32)");
    p.memory = dnnl::memory(p.desc, onednn_engine(), const_cast<void*>(weight.data));
    p.storage = weight.owner;
    p.scale.assign(weight_scale.data<float>(), weight_scale.data<float>() + out);
    p.colsum.assign(weight.colsum, weight.colsum + out);
    set_bias(bias);
}

PrepackedInt8 Linear::prepacked_int8() const {
    check(compute_ == Compute::Int8, "Linear: only int8 layers are stored packed");
    return {packed_->memory.get_data_handle(), packed_->desc.get_size(), describe_layout(packed_->desc),
            packed_->colsum.data(), packed_};
}

void Linear::set_bias(const Tensor* bias) {
    if (!bias) return;
    check(bias->ndim() == 1 && bias->dim(0) == out_, "Linear: bias shape ", shape_str(bias->shape()),
          " does not match ", out_, " outputs");
    bias_ = bias->to_f32();
}

Linear::Linear(const Tensor& weight, const Tensor* weight_scale, const Tensor* bias, Compute compute)
    : in_(weight.ndim() == 2 ? weight.dim(1) : 0), out_(weight.ndim() == 2 ? weight.dim(0) : 0),
      compute_(compute), packed_(std::make_shared<Packed>()) {
    check(weight.ndim() == 2, "Linear: weight must be 2-D, got ", shape_str(weight.shape()));
    check(compute != Compute::Auto, "Linear: the compute mode must be resolved before loading");
    check(compute != Compute::BF16 || cpu_has_bf16_products(),
          "--compute bf16: oneDNN has no bf16 matrix products for this CPU (they need AVX-512); "
          "use --compute int8 or --compute f32");
    const bool int8_weight = weight.dtype() == DType::I8;
    check(int8_weight == (weight_scale != nullptr), "Linear: int8 weights need their scales (and only they)");
    if (weight_scale)
        check(weight_scale->dtype() == DType::F32 && weight_scale->numel() == out_, "Linear: weight scales ",
              shape_str(weight_scale->shape()), " ", dtype_name(weight_scale->dtype()), " do not match ",
              out_, " outputs (expected F32)");
    set_bias(bias);
    if (compute == Compute::Int8) {
        pack_int8(weight, weight_scale);
        return;
    }
    // Float modes. oneDNN converts bf16 to f32 while reordering; f16 and int8 go through f32 here.
    const dt type = compute == Compute::BF16 ? dt::bf16 : dt::f32;
    packed_->src_type = packed_->wei_type = type;
    Tensor w = weight;
    if (int8_weight) {
        w = Tensor::f32(weight.shape());
        dequantize_weight_rows(weight.data<int8_t>(), weight_scale->data<float>(), out_, in_, w.data<float>());
    } else if (w.dtype() == DType::F16) {
        w = w.to_f32();
    }
    if (w.dtype() == DType::F32 && type == dt::bf16) {
        Tensor b(DType::BF16, w.shape());
        convert_f32_to_bf16(w.data<float>(), b.data<uint16_t>(), size_t(w.numel()));
        w = b;
    }
    packed_->pack(w.raw(), w.dtype() == DType::BF16 ? dt::bf16 : dt::f32, in_, out_, bias != nullptr);
}

size_t Linear::weight_bytes() const {
    if (!packed_) return 0;
    return packed_->desc.get_size() + packed_->scale.size() * sizeof(float) +
           packed_->colsum.size() * sizeof(int32_t);
}

namespace {

// The calling thread's converted inputs, reused: no allocation or zeroing per call. They grow to
// the largest call (rows x input width) and stay until release_product_scratch().
struct Scratch {
    std::vector<uint16_t> x_bf16;
    std::vector<float> x_normed;
    std::vector<uint8_t> xq;
    std::vector<float> xs;
    std::vector<int32_t> zero;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

}  // namespace

void release_product_scratch() { scratch() = Scratch{}; }

void Linear::forward(const float* x, int64_t rows, float* y, RowNorm norm) const {
    if (rows == 0) return;
    if (compute_ == Compute::Int8) return forward_int8(x, rows, y, norm);
    const dnnl::matmul mm = packed_->primitive(rows, in_, out_, has_bias());
    std::vector<uint16_t>& x_bf16 = scratch().x_bf16;
    std::vector<float>& x_normed = scratch().x_normed;
    void* src_ptr = const_cast<float*>(x);
    if (compute_ == Compute::BF16) {
        x_bf16.resize(size_t(rows * in_));
        uint16_t* out = x_bf16.data();
        const int64_t k = in_;
#pragma omp parallel for if (rows * k > 32768)
        for (int64_t r = 0; r < rows; ++r) convert_f32_to_bf16(normed_row(x + r * k, k, norm), out + r * k, size_t(k));
        src_ptr = out;
    } else if (norm) {
        x_normed.resize(size_t(rows * in_));
        rms_norm(x, norm.weight, x_normed.data(), rows, in_, norm.eps);
        src_ptr = x_normed.data();
    }
    dnnl::memory src({{rows, in_}, packed_->src_type, tag::ab}, onednn_engine(), src_ptr);
    dnnl::memory dst({{rows, out_}, dt::f32, tag::ab}, onednn_engine(), y);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed_->memory}, {DNNL_ARG_DST, dst}};
    if (has_bias())
        args[DNNL_ARG_BIAS] = dnnl::memory({{1, out_}, dt::f32, tag::ab}, onednn_engine(),
                                           const_cast<void*>(bias_.raw()));
    mm.execute(onednn_stream(), args);
    onednn_stream().wait();
}

// int8: quantize each weight row (unless the checkpoint already did), remember the scales and the
// column sums, and pack the s8 weights for u8 x s8 products.
void Linear::pack_int8(const Tensor& weight, const Tensor* weight_scale) {
    Packed& p = *packed_;
    p.set_int8();
    p.scale.resize(size_t(out_));
    std::vector<int8_t> owned;
    const int8_t* q = nullptr;
    if (weight.dtype() == DType::I8) {
        q = weight.data<int8_t>();
        std::copy_n(weight_scale->data<float>(), out_, p.scale.data());
    } else {
        owned.resize(size_t(out_ * in_));
        quantize_weight_rows(weight.dtype(), weight.raw(), out_, in_, owned.data(), p.scale.data());
        q = owned.data();
    }
    p.colsum.assign(size_t(out_), 0);
#pragma omp parallel for if (out_ * in_ > 65536)
    for (int64_t n = 0; n < out_; ++n) {
        int32_t s = 0;
        for (int64_t i = 0; i < in_; ++i) s += q[n * in_ + i];
        p.colsum[size_t(n)] = s;
    }
    p.pack(q, dt::s8, in_, out_, false);
}

void Linear::forward_int8(const float* x, int64_t rows, float* y, RowNorm norm) const {
    Packed& p = *packed_;
    const dnnl::matmul mm = p.primitive(rows, in_, out_, false);
    std::vector<uint8_t>& xq = scratch().xq;
    std::vector<float>& xs = scratch().xs;
    std::vector<int32_t>& zero = scratch().zero;
    xq.resize(size_t(rows * in_));
    xs.resize(size_t(rows));
    zero.resize(size_t(rows));
    quantize_activation_rows(x, rows, in_, p.code, xq.data(), xs.data(), zero.data(), norm);
    // The s32 sums land in y itself and are dequantized in place.
    dnnl::memory src({{rows, in_}, dt::u8, tag::ab}, onednn_engine(), xq.data());
    dnnl::memory dst({{rows, out_}, dt::s32, tag::ab}, onednn_engine(), y);
    mm.execute(onednn_stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, p.memory}, {DNNL_ARG_DST, dst}});
    onednn_stream().wait();
    dequantize_products(y, p.colsum.data(), xs.data(), zero.data(), p.scale.data(),
                        has_bias() ? bias_.data<float>() : nullptr, rows, out_);
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
