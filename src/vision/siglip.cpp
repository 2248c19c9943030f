#include "vision/siglip.h"

#include <cstring>
#include <string>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "vision/load_linear.h"

namespace dimple {

namespace {

constexpr int kChannels = 3;

Tensor load_vector(const Checkpoint& ck, const std::string& name, int64_t n) { return ck.get(name, {n}).to_f32(); }

}  // namespace

SiglipTower::SiglipTower(const Checkpoint& ck, const SiglipConfig& config, int layers, Compute compute)
    : config_(config) {
    const int64_t H = config.hidden_size, I = config.intermediate_size, P = config.patch_size;
    const std::string e = std::string(kSiglipPrefix) + "embeddings.";
    const Checkpoint::LinearWeight pw = ck.linear_weight(e + "patch_embedding", {H, kChannels, P, P});
    const Tensor pb = load_vector(ck, e + "patch_embedding.bias", H);
    // Stride == kernel: the Conv2d is a linear map of each flattened (C, P, P) patch.
    patch_embed_ = Linear(pw.weight.reshape({H, kChannels * P * P}), pw.scale.empty() ? nullptr : &pw.scale, &pb,
                          compute);
    ck.release(e + "patch_embedding.weight");
    positions_ = ck.get(e + "position_embedding.weight", {kLlavaPatches, H}).to_f32();

    for (int k = 0; k < layers; ++k) {
        const std::string p = siglip_layer_prefix(k);
        Layer l;
        l.norm1_w = load_vector(ck, p + "layer_norm1.weight", H);
        l.norm1_b = load_vector(ck, p + "layer_norm1.bias", H);
        l.norm2_w = load_vector(ck, p + "layer_norm2.weight", H);
        l.norm2_b = load_vector(ck, p + "layer_norm2.bias", H);
        const std::string a = p + "self_attn.";
        l.qkv = load_linear(ck, {a + "q_proj", a + "k_proj", a + "v_proj"}, {{H, H}, {H, H}, {H, H}}, compute);
        l.out = load_linear(ck, a + "out_proj", H, H, compute);
        l.fc1 = load_linear(ck, p + "mlp.fc1", I, H, compute);
        l.fc2 = load_linear(ck, p + "mlp.fc2", H, I, compute);
        layers_.push_back(std::move(l));
    }
}

// [crops * 729, 3 * 14 * 14]: patch (py, px) of each crop, row-major, flattened as (c, ky, kx) like
// the conv weight. Pixels beyond 27 * 14 = 378 are never read, as the "valid" conv never reads them.
Tensor SiglipTower::patch_rows(const Tensor& pixels) const {
    const int64_t S = pixels.dim(2), P = config_.patch_size, side = kLlavaPatchesPerSide;
    const int64_t crops = pixels.dim(0), row_len = kChannels * P * P;
    Tensor rows = Tensor::f32({crops * kLlavaPatches, row_len});
#pragma omp parallel for if (crops * kLlavaPatches * row_len > 65536)
    for (int64_t r = 0; r < crops * kLlavaPatches; ++r) {
        const int64_t crop = r / kLlavaPatches, py = (r % kLlavaPatches) / side, px = r % side;
        float* dst = rows.row(r);
        for (int64_t c = 0; c < kChannels; ++c)
            for (int64_t ky = 0; ky < P; ++ky) {
                const float* src = pixels.data<float>() + ((crop * kChannels + c) * S + py * P + ky) * S + px * P;
                std::memcpy(dst + (c * P + ky) * P, src, size_t(P) * sizeof(float));
            }
    }
    return rows;
}

Tensor SiglipTower::forward(const Tensor& pixels, std::vector<Tensor>* hidden) const {
    check(pixels.dtype() == DType::F32 && pixels.is_contiguous() && pixels.ndim() == 4 &&
              pixels.dim(1) == kChannels && pixels.dim(2) == kLlavaCropSize && pixels.dim(3) == kLlavaCropSize,
          "SigLIP tower: pixel values ", shape_str(pixels.shape()), " are not [crops, 3, ", kLlavaCropSize, ", ",
          kLlavaCropSize, "] f32");
    const int64_t crops = pixels.dim(0), N = crops * kLlavaPatches;
    const int64_t H = config_.hidden_size, I = config_.intermediate_size, heads = config_.num_heads;
    const float eps = float(config_.layer_norm_eps);

    Tensor x = patch_embed_.forward(patch_rows(pixels));
    for (int64_t r = 0; r < N; ++r) add_inplace(x.row(r), positions_.row(r % kLlavaPatches), H);
    if (hidden) hidden->assign(1, x.clone().reshape({crops, kLlavaPatches, H}));

    Tensor normed = Tensor::f32({N, H}), qkv = Tensor::f32({N, 3 * H}), att = Tensor::f32({N, H});
    Tensor tmp = Tensor::f32({N, H}), mid = Tensor::f32({N, I});
    float* xp = x.data<float>();
    for (const Layer& l : layers_) {
        layer_norm(xp, l.norm1_w.data<float>(), l.norm1_b.data<float>(), normed.data<float>(), N, H, eps);
        l.qkv.forward(normed.data<float>(), N, qkv.data<float>());
        for (int64_t c = 0; c < crops; ++c) {  // each crop attends to its own patches only
            const float* q = qkv.row(c * kLlavaPatches);
            const AttentionShape shape{kLlavaPatches, kLlavaPatches, heads, heads, config_.head_dim(),
                                       3 * H, 3 * H, 3 * H, H};
            attention(q, q + H, q + 2 * H, att.row(c * kLlavaPatches), shape);
        }
        l.out.forward(att.data<float>(), N, tmp.data<float>());
        add_inplace(xp, tmp.data<float>(), N * H);

        layer_norm(xp, l.norm2_w.data<float>(), l.norm2_b.data<float>(), normed.data<float>(), N, H, eps);
        l.fc1.forward(normed.data<float>(), N, mid.data<float>());
        gelu_tanh_inplace(mid.data<float>(), N * I);
        l.fc2.forward(mid.data<float>(), N, tmp.data<float>());
        add_inplace(xp, tmp.data<float>(), N * H);
        if (hidden) hidden->push_back(x.clone().reshape({crops, kLlavaPatches, H}));
    }
    return x.reshape({crops, kLlavaPatches, H});
}

}  // namespace dimple
