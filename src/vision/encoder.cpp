#include "vision/encoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "vision/load_linear.h"

namespace dimple {

namespace {

// Qwen2.5-VL fixes the eps of every vision RMSNorm (blocks and merger); config.json has no field.
constexpr float kVisionEps = 1e-6f;

Tensor load_norm(const Checkpoint& ck, const std::string& name, int64_t n) {
    return ck.get(name, {n}).to_f32();
}

Tensor i64_tensor(const std::vector<int64_t>& v) {
    Tensor t(DType::I64, {int64_t(v.size())});
    std::memcpy(t.raw(), v.data(), v.size() * sizeof(int64_t));
    return t;
}

// dst unit i = src unit index[i], a unit being `unit_floats` consecutive floats.
void gather_units(const float* src, float* dst, std::span<const int64_t> index, int64_t unit_floats) {
#pragma omp parallel for if (int64_t(index.size()) * unit_floats > 65536)
    for (int64_t i = 0; i < int64_t(index.size()); ++i)
        std::memcpy(dst + i * unit_floats, src + index[size_t(i)] * unit_floats,
                    size_t(unit_floats) * sizeof(float));
}

}  // namespace

VisionEncoder::VisionEncoder(const Checkpoint& ck, const ModelConfig& cfg, Compute compute) {
    check(cfg.vision.has_value(), ck.dir(), ": config.json has no vision_config");
    cfg_ = *cfg.vision;
    // parse_model_config has checked the geometry (head_dim % 4, window size, activations).
    const VisionConfig& v = cfg_;
    const int64_t H = v.hidden_size, I = v.intermediate_size;
    const Checkpoint::LinearWeight pw = ck.linear_weight(
        "visual.patch_embed.proj", {H, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
    // Stride == kernel, so the Conv3d is a linear map of each flattened (C, T, P, P) row.
    patch_embed_ = Linear(pw.weight.reshape({H, v.patch_dim()}), pw.scale.empty() ? nullptr : &pw.scale,
                          nullptr, compute);
    ck.release("visual.patch_embed.proj.weight");

    for (int i = 0; i < v.depth; ++i) {
        const std::string p = "visual.blocks." + std::to_string(i) + ".";
        Block b;
        b.norm1 = load_norm(ck, p + "norm1.weight", H);
        b.norm2 = load_norm(ck, p + "norm2.weight", H);
        b.qkv = load_linear(ck, p + "attn.qkv", 3 * H, H, compute);
        b.proj = load_linear(ck, p + "attn.proj", H, H, compute);
        b.gate_up = load_linear(ck, {p + "mlp.gate_proj", p + "mlp.up_proj"}, {{I, H}, {I, H}}, compute);
        b.down = load_linear(ck, p + "mlp.down_proj", H, I, compute);
        blocks_.push_back(std::move(b));
    }
    const int64_t merged = H * v.spatial_merge_size * v.spatial_merge_size;
    ln_q_ = load_norm(ck, "visual.merger.ln_q.weight", H);
    merger1_ = load_linear(ck, "visual.merger.mlp.0", merged, merged, compute);
    merger2_ = load_linear(ck, "visual.merger.mlp.2", v.out_hidden_size, merged, compute);
    proj1_ = load_linear(ck, "img_projector.linear_1", cfg.hidden_size, v.out_hidden_size, compute);
    proj2_ = load_linear(ck, "img_projector.linear_2", cfg.hidden_size, cfg.hidden_size, compute);
}

Tensor VisionEncoder::encode(const Tensor& pixel_values, std::span<const ImageGrid> grids,
                             VisionTrace* trace) const {
    const VisionConfig& v = cfg_;
    const int merge = v.spatial_merge_size;
    const int64_t unit = int64_t(merge) * merge;  // patches per merge unit
    const int64_t N = vision_patch_count(grids, merge);
    check(pixel_values.dtype() == DType::F32 && pixel_values.is_contiguous() &&
              pixel_values.ndim() == 2 && pixel_values.dim(0) == N &&
              pixel_values.dim(1) == v.patch_dim(),
          "vision encoder: pixel_values ", shape_str(pixel_values.shape()), " do not match the ",
          N, " patches of the grids (expected [", N, ", ", v.patch_dim(), "] f32)");
    const int64_t H = v.hidden_size, I = v.intermediate_size, D = v.head_dim();
    const int64_t heads = v.num_heads, units = N / unit;

    const Tensor embedded = patch_embed_.forward(pixel_values);
    const Tensor angles = vision_rotary_angles(grids, merge, int(D));
    const WindowLayout layout =
        vision_window_layout(grids, merge, v.window_size / (v.patch_size * merge));
    if (trace) {
        trace->patch_embed = embedded;
        trace->rot_pos_emb = angles;
        trace->window_index = i64_tensor(layout.window_index);
        trace->cu_window_seqlens_raw = i64_tensor(layout.cu_window_seqlens_raw);
        trace->cu_window_seqlens = i64_tensor(layout.cu_window_seqlens);
        trace->cu_seqlens = i64_tensor(layout.cu_seqlens);
        trace->blocks.clear();
        trace->block_ms.clear();
    }

    // From here on rows are in window order: each window's patches are contiguous.
    Tensor x = Tensor::f32({N, H});
    gather_units(embedded.data<float>(), x.data<float>(), layout.window_index, unit * H);
    // cos/sin of the angles, duplicated to head_dim (rotate-half), in window order.
    Tensor cos = Tensor::f32({N, D}), sin = Tensor::f32({N, D});
    {
        Tensor a = Tensor::f32({N, D / 2});
        gather_units(angles.data<float>(), a.data<float>(), layout.window_index, unit * D / 2);
#pragma omp parallel for if (N * D > 32768)
        for (int64_t r = 0; r < N; ++r)
            for (int64_t f = 0; f < D; ++f) {
                const float angle = a.row(r)[f % (D / 2)];
                cos.row(r)[f] = std::cos(angle);
                sin.row(r)[f] = std::sin(angle);
            }
    }

    Tensor normed = Tensor::f32({N, H}), qkv = Tensor::f32({N, 3 * H}), att = Tensor::f32({N, H});
    Tensor tmp = Tensor::f32({N, H}), gate_up = Tensor::f32({N, 2 * I}), act = Tensor::f32({N, I});
    float* xp = x.data<float>();
    for (size_t b = 0; b < blocks_.size(); ++b) {
        const Block& blk = blocks_[b];
        const auto start = std::chrono::steady_clock::now();
        blk.qkv.forward(xp, N, qkv.data<float>(), RowNorm{blk.norm1.data<float>(), kVisionEps});
        // Each qkv row is [3, heads, head_dim]: rotate q and k in place.
#pragma omp parallel for if (N * H > 32768)
        for (int64_t r = 0; r < N; ++r) {
            apply_rotary(qkv.row(r), heads, D, D, cos.row(r), sin.row(r));
            apply_rotary(qkv.row(r) + H, heads, D, D, cos.row(r), sin.row(r));
        }
        const bool full = std::find(v.fullatt_block_indexes.begin(), v.fullatt_block_indexes.end(),
                                    int(b)) != v.fullatt_block_indexes.end();
        const std::vector<int64_t>& cu = full ? layout.cu_seqlens : layout.cu_window_seqlens;
        for (size_t s = 0; s + 1 < cu.size(); ++s) {
            const int64_t begin = cu[s], len = cu[s + 1] - cu[s];
            const float* q = qkv.row(begin);
            const AttentionShape shape{len, len, heads, heads, D, 3 * H, 3 * H, 3 * H, H};
            attention(q, q + H, q + 2 * H, att.row(begin), shape);
        }
        blk.proj.forward(att.data<float>(), N, tmp.data<float>());
        add_inplace(xp, tmp.data<float>(), N * H);

        blk.gate_up.forward(xp, N, gate_up.data<float>(), RowNorm{blk.norm2.data<float>(), kVisionEps});
        silu_mul_rows(gate_up.data<float>(), N, I, act.data<float>());
        blk.down.forward(act.data<float>(), N, tmp.data<float>());
        add_inplace(xp, tmp.data<float>(), N * H);
        if (trace) {
            const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
            trace->block_ms.push_back(ms.count());
            trace->blocks.push_back(x.clone());
        }
    }

    // Merger: each merge unit's `unit` consecutive normed rows form one row of unit * H.
    rms_norm(xp, ln_q_.data<float>(), normed.data<float>(), N, H, kVisionEps);
    Tensor hidden = merger1_.forward(normed.reshape({units, unit * H}));
    gelu_erf_inplace(hidden.data<float>(), hidden.numel());
    const Tensor merged = merger2_.forward(hidden);

    Tensor vis_out = Tensor::f32({units, v.out_hidden_size});
    gather_units(merged.data<float>(), vis_out.data<float>(),
                 invert_permutation(layout.window_index), v.out_hidden_size);

    Tensor projected = proj1_.forward(vis_out);
    silu_inplace(projected.data<float>(), projected.numel());
    projected = proj2_.forward(projected);
    if (trace) {
        trace->merger_out_windowed = merged;
        trace->vis_out = vis_out;
        trace->projected = projected;
    }
    return projected;
}

}  // namespace dimple
