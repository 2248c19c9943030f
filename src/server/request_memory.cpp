#include "server/request_memory.h"

#include <algorithm>

#include "vision/preprocess.h"

namespace dimple::server {

namespace {

constexpr uint64_t kF32 = 4;
constexpr uint64_t kMiB = uint64_t(1) << 20;
// Big buffers come in 8 sizes per doubling (core/block_cache.h: up to 12.5% more), vectors and
// strings grow by doubling, and the allocator keeps some slack: every bound gets this margin.
constexpr uint64_t margin(uint64_t bytes) { return bytes + bytes / 2 + 2 * kMiB; }

// The vision tower over `patches` rows (vision/encoder.cpp: x, normed, att, tmp [N, H]; qkv
// [N, 3H]; gate_up [N, 2I]; act [N, I]; cos, sin [N, D] and the half-angle rows; the patch
// embedding; the merger's rows), plus the pixel rows twice (preprocess_image's and Engine::prompt's
// copy of all images) and the resized picture.
uint64_t vision_bytes(const VisionConfig& v, int64_t patches, int64_t resized_pixels, int merge) {
    const uint64_t N = uint64_t(patches), H = uint64_t(v.hidden_size), I = uint64_t(v.intermediate_size);
    const uint64_t D = uint64_t(v.head_dim()), unit = uint64_t(merge) * uint64_t(merge);
    const uint64_t rows = N * kF32 * (8 * H + 3 * I + 3 * D + 2 * uint64_t(v.patch_dim()));
    const uint64_t merger = N / unit * kF32 * (2 * unit * H + 3 * uint64_t(v.out_hidden_size));
    // Products convert their input rows (bf16 or int8 compute) in per-thread buffers.
    const uint64_t conversions = N * 6 * std::max({H, I, uint64_t(v.patch_dim())});
    return rows + merger + conversions + uint64_t(resized_pixels) * 3;
}

// One forward pass over `rows` rows whose keys span `keys` positions (model/language_model.cpp:
// the input and its packed copy, x, h [R, H]; qkv [R, q + 2kv]; attn_out [R, q]; act [R, I];
// gate_up [R, 2I]; the rotary table [R, 2D]; keys and values and their transposed copy [keys, kv]),
// the per-thread input conversions of the products, and the logits of `predicted` rows.
uint64_t pass_bytes(const ModelConfig& c, uint64_t rows, uint64_t keys, uint64_t predicted) {
    const uint64_t H = uint64_t(c.hidden_size), I = uint64_t(c.intermediate_size), D = uint64_t(c.head_dim());
    const uint64_t q = uint64_t(c.num_heads) * D, kv = uint64_t(c.num_kv_heads) * D;
    const uint64_t activations = rows * kF32 * (5 * H + 2 * q + 2 * kv + 3 * I + 2 * D);
    const uint64_t key_buffers = keys * kF32 * 3 * kv + rows * kF32 * kv;
    const uint64_t conversions = rows * 6 * std::max({H, I, q});
    const uint64_t logits = predicted * kF32 * (uint64_t(c.vocab_size) + H);
    return activations + key_buffers + conversions + logits;
}

}  // namespace

uint64_t parse_bytes(uint64_t body_bytes) {
    // The document's strings (at most the body's bytes), the request's copies of them (messages'
    // text, at most as much again), and the values' bookkeeping (nlohmann's 16-byte values, map
    // nodes and keys: under 128 bytes each).
    return margin(2 * body_bytes + uint64_t(kMaxJsonValues) * 128);
}

uint64_t image_decode_bytes(int64_t width, int64_t height) {
    // The decoders' rows (up to 4 bytes a pixel: RGBA, or 16-bit grey) and the RGB result.
    return margin(uint64_t(width) * uint64_t(height) * 7);
}

uint64_t image_bytes(int64_t width, int64_t height) { return uint64_t(width) * uint64_t(height) * 3; }

uint64_t images_share(const std::vector<Image>& images) {
    uint64_t bytes = 0;
    for (const Image& img : images) bytes += image_bytes(img.width, img.height);
    return bytes + bytes / 2;  // with margin()'s proportion, not its constant
}

uint64_t job_bytes(const JobInput& in, const ModelConfig& c, const PreprocessorConfig& pre, int64_t prompt_tokens) {
    const uint64_t P = uint64_t(prompt_tokens), A = uint64_t(in.options.max_new_tokens);
    const uint64_t H = uint64_t(c.hidden_size), L = uint64_t(c.num_layers);
    const uint64_t kv = uint64_t(c.num_kv_heads) * uint64_t(c.head_dim());
    uint64_t total = in.ids.size() * 8;
    // Images: the RGB pixels kept until admission, then the vision tower one image after another
    // (its buffers freed between images) with all images' pixel rows alive together.
    uint64_t vision_peak = 0, pixel_rows = 0;
    for (const Image& img : in.images) {
        total += image_bytes(img.width, img.height);
        const auto [h, w] = smart_resize(img.height, img.width, pre.patch_size * pre.merge_size, pre.min_pixels,
                                         pre.max_pixels);
        const int64_t patches = int64_t(h / pre.patch_size) * (w / pre.patch_size);
        if (c.vision) {
            vision_peak = std::max(vision_peak, vision_bytes(*c.vision, patches, int64_t(h) * w, pre.merge_size));
            pixel_rows += uint64_t(patches) * uint64_t(c.vision->patch_dim()) * kF32 * 2;
        }
    }
    total += vision_peak + pixel_rows;
    // The prompt's embeddings and positions, the sequence, the prompt's keys and values (with the
    // dual cache also the answer's, twice: the refresh and the joined copy).
    total += P * (H * kF32 + 48) + A * 48;
    const bool dual = in.options.accel.dual_cache;
    total += L * P * kv * kF32 * 2;
    if (dual) total += 2 * L * (P + A) * kv * kF32 * 2;
    // LLaDA-V's dLLM-Cache: every row's keys, values, attention and MLP outputs in every layer
    // (model/dllm_cache.h), about 2 MiB a row at 8B width.
    if (in.options.accel.dllm_cache.enabled()) total += L * (P + A) * (2 * kv + 2 * H) * kF32;
    // The largest pass: the first feeds every row (with the cache, the prompt's are kept).
    total += pass_bytes(c, P + A, P + A, A);
    // Every step's answer is kept in the history, and sent as an event when streaming (events wait
    // for the I/O thread, their text for the client).
    const uint64_t steps = uint64_t(std::max(1, in.options.steps));
    total += steps * A * 8;
    if (in.step_events) total += steps * A * 8 * 2;
    return margin(total);
}

}  // namespace dimple::server
