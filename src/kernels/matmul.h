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

    int64_t in_features() const { return in_; }
    int64_t out_features() const { return out_; }
    bool has_bias() const { return !bias_.empty(); }
    Compute compute() const { return compute_; }
    size_t weight_bytes() const;  // bytes held by the packed weights (and int8 scales)

    // y[m, out] = x[m, in] W^T + b for m < rows; x and y are contiguous f32 rows. With `norm`, x's
    // rows are RMS-normalised first, as part of their conversion to the product's input type
    // (bf16, int8 codes) where there is one: the same result as rms_norm then forward.
    void forward(const float* x, int64_t rows, float* y, RowNorm norm = {}) const;
    Tensor forward(const Tensor& x) const;  // x [..., in] -> [..., out]

private:
    struct Packed;
    void pack_int8(const Tensor& weight, const Tensor* weight_scale);
    void forward_int8(const float* x, int64_t rows, float* y, RowNorm norm) const;

    int64_t in_ = 0, out_ = 0;
    Compute compute_ = Compute::F32;
    std::shared_ptr<Packed> packed_;
    Tensor bias_;
};

}  // namespace dimple
