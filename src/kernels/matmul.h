// Linear layers y = x W^T + b through oneDNN. Weights are repacked once, at load, into the blocked
// layout oneDNN prefers for the chosen compute mode; activations stay f32 between kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"

namespace dimple {

// How matrix products are computed.
//  f32:  f32 activations x f32 weights (upcast from the checkpoint): the parity mode.
//  bf16: activations rounded to bf16 x bf16 weights, f32 accumulation and output: the fast mode.
enum class Compute { F32, BF16 };

Compute parse_compute(const std::string& s);  // "f32" | "bf16" | "auto"
std::string compute_name(Compute c);
bool cpu_has_bf16();   // AVX512_BF16 (or AMX) present
Compute default_compute();  // bf16 where the CPU has native bf16 dot products, else f32

class Linear {
public:
    Linear() = default;
    // weight [out, in] (f32/f16/bf16, e.g. mapped from a checkpoint), optional bias [out].
    Linear(const Tensor& weight, const Tensor* bias, Compute compute);

    int64_t in_features() const { return in_; }
    int64_t out_features() const { return out_; }
    bool has_bias() const { return !bias_.empty(); }
    size_t weight_bytes() const;  // bytes held by the packed weights

    // y[m, out] = x[m, in] W^T + b for m < rows; x and y are contiguous f32 rows.
    void forward(const float* x, int64_t rows, float* y) const;
    Tensor forward(const Tensor& x) const;  // x [..., in] -> [..., out]

private:
    struct Packed;
    int64_t in_ = 0, out_ = 0;
    Compute compute_ = Compute::F32;
    std::shared_ptr<Packed> packed_;
    Tensor bias_;
};

}  // namespace dimple
