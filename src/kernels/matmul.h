// Linear layers y = x W^T + b through oneDNN. Weights are repacked once, at load, into the blocked
// layout oneDNN prefers for the chosen compute mode; activations stay f32 between kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "kernels/quantize.h"

namespace dimple {

// How matrix products are computed.
//  f32:  f32 activations x f32 weights (upcast from the checkpoint): the parity mode.
//  bf16: activations rounded to bf16 x bf16 weights, f32 accumulation and output.
//  int8: weights int8 per output channel (symmetric, f32 scales), activations quantized per row on
//        the fly, u8 x s8 products with s32 accumulation (VNNI/AMX where present), f32 output.
//  auto: decided per model by the engine (engine/memory_plan.h): the fastest mode that fits.
enum class Compute { F32, BF16, Int8, Auto };

Compute parse_compute(const std::string& s);  // "f32" | "bf16" | "int8" | "auto"
std::string compute_name(Compute c);
// CPU features as oneDNN sees them (so ONEDNN_MAX_CPU_ISA=AVX2 counts as an AVX2-only CPU).
bool cpu_has_bf16();      // AVX512_BF16 (or AMX): native bf16 products
// Whether oneDNN's int8 kernels multiply-add u8 x s8 without 16-bit saturation (VNNI or AMX).
bool cpu_has_int8_dot();
bool cpu_has_bf16_products();  // oneDNN runs bf16 products at all (AVX-512; emulated without BF16)
Compute default_compute();  // bf16 where the CPU has native bf16 dot products, else f32

// int8 weights already in the layout this CPU's products read: packed by an earlier run and stored
// (io/packed_weights.h), so that loading maps them instead of repacking gigabytes.
struct PrepackedInt8 {
    const void* data = nullptr;          // the packed weights
    size_t bytes = 0;
    std::string layout;                  // int8_weight_layout() of the machine that packed them
    const int32_t* colsum = nullptr;     // [out]: each output's sum of its int8 weights
    std::shared_ptr<const void> owner;   // keeps data and colsum alive
};
// The layout int8 weights [out, in] are packed into here, in words (oneDNN version, block sizes,
// strides): equal strings mean the same bytes serve, different ones that they must be repacked.
std::string int8_weight_layout(int64_t in, int64_t out);

// Frees the calling thread's buffers of converted product inputs, which grow to its largest
// product (rows x input width, 2 to 6 bytes each) and otherwise stay: a server calls it when idle.
void release_product_scratch();

class Linear {
public:
    Linear() = default;
    // weight [out, in] (f32/f16/bf16, e.g. mapped from a checkpoint), optional bias [out].
    Linear(const Tensor& weight, const Tensor* bias, Compute compute);
    // The same, where the weight may also be int8 with per-row f32 scales `weight_scale` [out] (a
    // quantized checkpoint); any weight type serves any compute mode.
    Linear(const Tensor& weight, const Tensor* weight_scale, const Tensor* bias, Compute compute);
    // An int8 layer over weights [out, in] packed in this machine's layout (an error otherwise), with
    // their per-row scales [out].
    Linear(const PrepackedInt8& weight, int64_t in, int64_t out, const Tensor& weight_scale, const Tensor* bias);

    int64_t in_features() const { return in_; }
    int64_t out_features() const { return out_; }
    bool has_bias() const { return !bias_.empty(); }
    Compute compute() const { return compute_; }
    size_t weight_bytes() const;  // bytes held by the packed weights (and int8 scales)
    // An int8 layer's packed weights, to store for the next load (sharing this layer's memory).
    PrepackedInt8 prepacked_int8() const;

    // y[m, out] = x[m, in] W^T + b for m < rows; x and y are contiguous f32 rows. With `norm`, x's
    // rows are RMS-normalised first, as part of their conversion to the product's input type
    // (bf16, int8 codes) where there is one: the same result as rms_norm then forward.
    void forward(const float* x, int64_t rows, float* y, RowNorm norm = {}) const;
    Tensor forward(const Tensor& x) const;  // x [..., in] -> [..., out]

    struct Packed;  // the packed weights and their compiled products (kernels/matmul.cpp)

private:
    void pack_int8(const Tensor& weight, const Tensor* weight_scale);
    void set_bias(const Tensor* bias);
    void forward_int8(const float* x, int64_t rows, float* y, RowNorm norm) const;

    int64_t in_ = 0, out_ = 0;
    Compute compute_ = Compute::F32;
    std::shared_ptr<Packed> packed_;
    Tensor bias_;
};

}  // namespace dimple
