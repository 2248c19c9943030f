#include "model/memory_plan.h"

#include <algorithm>
#include <vector>

#include "core/block_cache.h"
#include "core/error.h"
#include "model/parameters.h"

namespace dimple {

uint64_t WeightFootprint::bytes(Compute c) const {
    switch (c) {
        case Compute::F32: return f32;
        case Compute::BF16: return bf16;
        case Compute::Int8: return int8;
        case Compute::Auto: break;
    }
    fail("WeightFootprint: resolve the compute mode first");
}

WeightFootprint weight_footprint(const Checkpoint& ckpt, const ModelConfig& cfg) {
    WeightFootprint f;
    uint64_t shared = 0;  // the same in every mode
    bool any_float = false;
    auto add_linear = [&](uint64_t numel, uint64_t out) {
        f.f32 += 4 * numel;
        f.bf16 += 2 * numel;
        f.int8 += numel + 8 * out;  // s8 weights, f32 scale and s32 column sum per output
    };
    for (const ParameterSpec& p : expected_parameters(cfg)) {
        const uint64_t numel = uint64_t(shape_numel(p.shape));
        if (!p.linear) {
            const bool table = p.name == lm_tensor_names(cfg).embed + ".weight";
            shared += table && ckpt.has(p.name) ? ckpt.get(p.name, p.shape).nbytes() : 4 * numel;
            continue;
        }
        add_linear(numel, uint64_t(p.shape[0]));
        const Checkpoint::LinearWeight w = ckpt.linear_weight(p.name.substr(0, p.name.size() - 7), p.shape);
        f.int8_checkpoint |= w.weight.dtype() == DType::I8;
        any_float |= w.weight.dtype() != DType::I8;
        f.f32_checkpoint |= w.weight.dtype() == DType::F32;
    }
    check(!(f.int8_checkpoint && any_float), ckpt.dir(), ": some linear weights are int8 and others are not");
    if (cfg.tie_word_embeddings)  // the head is packed from the (mapped) embedding table
        add_linear(uint64_t(cfg.vocab_size) * uint64_t(cfg.hidden_size), uint64_t(cfg.vocab_size));
    f.f32 += shared;
    f.bf16 += shared;
    f.int8 += shared;
    return f;
}

namespace {

// LLaDA-V (LlavaVisionEncoder::encode, one image at a time): the image with the most crops (base view
// unless "_nobase", plus the largest pinpoint's tiles; "pad": one crop) through the SigLIP tower in one batch, then the
// projector, then the anyres layout; the rows of the images encoded before it wait in the prompt,
// and every image's rows are prompt rows (the engine refuses more before the tower runs).
uint64_t llava_vision_bytes(const LlavaVisionConfig& c, uint64_t lm_hidden, const RequestLimits& r) {
    if (r.images <= 0) return 0;
    const uint64_t f = sizeof(float);
    uint64_t tiles = 1;
    if (c.aspect == AspectMode::AnyresMax)
        for (const auto& [w, h] : c.grid_pinpoints)
            tiles = std::max(tiles, uint64_t(w / kLlavaCropSize) * uint64_t(h / kLlavaCropSize));
    const uint64_t crops = c.aspect == AspectMode::AnyresMax ? (c.base_view ? 1 : 0) + tiles : 1;
    const uint64_t N = crops * kLlavaPatches, H = uint64_t(c.tower.hidden_size), I = uint64_t(c.tower.intermediate_size);
    const uint64_t pixels = f * crops * 3 * kLlavaCropSize * kLlavaCropSize;  // held for the whole encode
    // Tower (SiglipTower::forward): residual, normed, q/k/v, attention output, branch, fc1's output,
    // the products' converted input (at most f32), and one crop's attention scores.
    const uint64_t heads = uint64_t(c.tower.num_heads);
    const uint64_t tower = f * N * (7 * H + I + std::max(H, I)) + f * heads * kLlavaPatches * kLlavaPatches;
    // Projector: the tower's feature, the middle rows, proj2's converted input and its output; the
    // layout then holds the projected crops, the tile map and the image rows (at most the prompt).
    const uint64_t projector = f * N * (H + 3 * lm_hidden);
    const uint64_t layout = f * lm_hidden * (2 * N + uint64_t(r.prompt_tokens));
    const uint64_t earlier_images = f * lm_hidden * uint64_t(r.prompt_tokens);
    return earlier_images + pixels + std::max({tower, projector, layout});
}

}  // namespace

WorkingMemory working_memory(const ModelConfig& cfg, const PreprocessorConfig& pre, const RequestLimits& r) {
    const uint64_t f = sizeof(float);
    const uint64_t H = uint64_t(cfg.hidden_size), I = uint64_t(cfg.intermediate_size), D = uint64_t(cfg.head_dim());
    const uint64_t q = uint64_t(cfg.num_heads) * D, kv = uint64_t(cfg.num_kv_heads) * D;
    const uint64_t rows = uint64_t(r.prompt_tokens + r.answer_tokens);
    // A pass over `rows` (LanguageModel::forward): the input rows, q/k/v, the attention output, the
    // residual branch, gate/up and their product, the keys/values it attends over, and the
    // products' converted input (bf16 or int8 codes: at most as large as f32).
    const uint64_t pass = f * rows * (H + (q + 2 * kv) + q + H + 2 * I + I + 2 * kv + std::max(H, I));
    const uint64_t caches = f * uint64_t(cfg.num_layers) * rows * 2 * kv;
    // The prompt's embedding rows (image rows included), kept for the whole answer: every step
    // without prefilling feeds them again (LLaDA's pipeline by default).
    const uint64_t prompt_rows = f * uint64_t(r.prompt_tokens) * H;
    // The answer's logits and the sampler's probabilities beside them; LLaDA's step rule also edits
    // a copy (the family's banned ids, guidance) before choosing.
    const bool llada = cfg.arch == Architecture::Llada || cfg.arch == Architecture::LladaV;
    const uint64_t logits = (llada ? 3 : 2) * f * uint64_t(r.answer_tokens) * uint64_t(cfg.vocab_size);
    uint64_t vision = 0;
    if (cfg.vision) {  // VisionEncoder::encode over every patch of the prompt's images at once
        const VisionConfig& v = *cfg.vision;
        const uint64_t per_image = uint64_t(pre.max_pixels / (int64_t(pre.patch_size) * pre.patch_size));
        const uint64_t patches = std::min(uint64_t(r.images) * per_image, 4 * uint64_t(r.prompt_tokens));
        const uint64_t vh = uint64_t(v.hidden_size), vd = uint64_t(v.head_dim());
        // pixel rows, patch embedding, residual, rotary cos/sin, normed, qkv, attention, branch,
        // gate/up and their product, the converted input.
        vision = f * patches * (uint64_t(v.patch_dim()) + vh + vh + 3 * vd + vh + 3 * vh + vh + vh +
                                3 * uint64_t(v.intermediate_size) + std::max(vh, uint64_t(v.intermediate_size)));
    }
    if (cfg.llava) vision = llava_vision_bytes(*cfg.llava, H, r);
    WorkingMemory w;
    w.vision = vision;  // projected into the prompt before the language model runs
    w.language = pass + caches + prompt_rows + logits;
    w.kept_buffers = std::min<uint64_t>(w.activations(), block_cache::kDefaultMaxBytes);
    w.program = kProgramBytes;
    return w;
}

CpuFeatures CpuFeatures::detect() { return {cpu_has_bf16(), cpu_has_bf16_products()}; }

namespace {

std::string figures(Compute c, const Footprint& f) {
    return "--compute " + compute_name(c) + " needs " + human_bytes(double(f.bytes(c)));
}

}  // namespace

ComputePlan plan_compute(Compute requested, const Footprint& f, const AvailableMemory& available,
                         const CpuFeatures& cpu) {
    const std::string avail = human_bytes(double(available.bytes)) + " available (" + available.source + ")";
    const std::string hint = available.source == "--memory-limit" ? "" : " (--memory-limit overrides the detected figure)";
    auto fits = [&](Compute c) { return f.bytes(c) <= available.bytes; };
    std::vector<Compute> usable{Compute::Int8, Compute::F32};
    if (cpu.bf16_products) usable.insert(usable.begin() + 1, Compute::BF16);
    auto would_fit = [&](Compute except) {
        std::string s;
        for (Compute c : usable)
            if (c != except && fits(c)) s += (s.empty() ? "" : " or ") + ("--compute " + compute_name(c)) +
                                         " (" + human_bytes(double(f.bytes(c))) + ")";
        return s.empty() ? std::string("no compute mode fits: free memory or use a machine with more")
                         : s + " would fit";
    };

    if (requested != Compute::Auto) {
        check(fits(requested), figures(requested, f), " for the weights and working memory, but ", avail,
              "; ", would_fit(requested), hint);
        return {requested, "compute " + compute_name(requested) + " (as asked): " + human_bytes(double(f.bytes(requested))) +
                               " of " + avail};
    }
    std::vector<std::pair<Compute, std::string>> order;
    if (f.weights.int8_checkpoint) {
        order = {{Compute::Int8, "the checkpoint is int8"}};
    } else if (cpu.native_bf16) {
        order = {{Compute::BF16, "this CPU has native bf16 products"},
                 {Compute::Int8, "bf16 weights do not fit"}};
    } else if (f.weights.f32_checkpoint) {
        order = {{Compute::F32, "f32 weights and no native bf16 products on this CPU"},
                 {Compute::Int8, "f32 weights do not fit"}};
    } else {
        order = {{Compute::Int8, "no native bf16 products on this CPU, and f32 would double the 16-bit "
                                 "weights (--compute f32 is exact if " + human_bytes(double(f.bytes(Compute::F32))) + " fit)"}};
    }
    for (const auto& [c, why] : order)
        if (fits(c))
            return {c, "compute " + compute_name(c) + " (auto: " + why + "): " + human_bytes(double(f.bytes(c))) +
                           " of " + avail};
    const Compute best = order.front().first;
    fail(figures(best, f), " for the weights and working memory, but ", avail, "; ", would_fit(best), hint);
}

}  // namespace dimple
