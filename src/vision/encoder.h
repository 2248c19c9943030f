// The Qwen2.5-VL vision tower (patch embed, windowed ViT blocks, 2x2 merger) followed by Dimple's
// img_projector: pixel rows in, one language-model embedding per merge unit out.
#pragma once

#include <span>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "kernels/matmul.h"
#include "vision/windows.h"

namespace dimple {

// Intermediates of one encode() call, named like the tiny-a goldens (`*_vis_*`), for tests.
struct VisionTrace {
    Tensor patch_embed;    // [N, hidden], processor order
    Tensor rot_pos_emb;    // [N, head_dim/2] rotary angles, processor order
    Tensor window_index;   // [N/4] i64
    Tensor cu_window_seqlens_raw, cu_window_seqlens, cu_seqlens;  // i64
    std::vector<Tensor> blocks;     // each block's output [N, hidden], window order
    std::vector<double> block_ms;   // wall time of each block (for benchmarks)
    Tensor merger_out_windowed;     // [N/4, out_hidden], window order
    Tensor vis_out;                 // [N/4, out_hidden], original order
    Tensor projected;               // [N/4, LM hidden]
};

class VisionEncoder {
public:
    VisionEncoder(const Checkpoint& ck, const ModelConfig& cfg, Compute compute);

    // pixel_values: [N, C*T*P*P] f32 rows in the processor's order, the images' rows one after
    // another as `grids` lists them. Returns [N/4, LM hidden]: the rows that replace the image pad
    // tokens, in the original merge-unit order. Images never attend to each other.
    Tensor encode(const Tensor& pixel_values, std::span<const ImageGrid> grids,
                  VisionTrace* trace = nullptr) const;

    const VisionConfig& config() const { return cfg_; }
    int64_t output_dim() const { return proj2_.out_features(); }

private:
    struct Block {
        Tensor norm1, norm2;  // f32
        Linear qkv, proj, gate_up, down;  // gate and up stacked: one product, [gate | up] per row
    };
    VisionConfig cfg_;
    float eps_ = 1e-6f;
    Linear patch_embed_;
    std::vector<Block> blocks_;
    Tensor ln_q_;
    Linear merger1_, merger2_, proj1_, proj2_;
};

}  // namespace dimple
