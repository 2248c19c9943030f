#include "engine/engine.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "core/block_cache.h"
#include "core/error.h"
#include "decode/priors.h"
#include "text/image_tokens.h"
#include "vision/preprocess.h"

namespace dimple {

namespace fs = std::filesystem;

namespace {

bool has_tokenizer_files(const std::string& dir) {
    return fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.json");
}

}  // namespace

Engine::Engine(const std::string& dir, const EngineOptions& opt)
    : cfg_(load_model_config(dir)), pre_(load_preprocessor_config(dir)), limits_(opt.limits) {
    check(limits_.prompt_tokens >= 1 && limits_.answer_tokens >= 0 && limits_.images >= 0,
          "request limits must be positive");
    ckpt_ = std::make_unique<Checkpoint>(dir);
    if (opt.record_packed) ckpt_->record_packed(opt.record_packed);
    // Decided from the checkpoint's headers alone, before a weight is read.
    const AvailableMemory available = opt.memory_limit ? AvailableMemory{opt.memory_limit, "--memory-limit"}
                                                       : available_memory();
    const Footprint footprint{weight_footprint(*ckpt_, cfg_), working_memory(cfg_, pre_, limits_)};
    plan_ = plan_compute(opt.compute, footprint, available, CpuFeatures::detect());
    block_cache::set_max_bytes(footprint.working.kept_buffers);
    if (opt.compute == Compute::Auto && opt.announce_plan) std::fprintf(stderr, "dimple: %s\n", plan_.reason.c_str());
    lm_ = std::make_unique<LanguageModel>(*ckpt_, cfg_, plan_.compute);
    if (cfg_.vision) vision_ = std::make_unique<VisionEncoder>(*ckpt_, cfg_, plan_.compute);
    if (cfg_.llava) llava_ = std::make_unique<LlavaVisionEncoder>(*ckpt_, *cfg_.llava, cfg_.hidden_size, plan_.compute);
    if (has_tokenizer_files(dir)) tokenizer_ = std::make_unique<text::Tokenizer>(text::Tokenizer::load(dir));
    family_ = model_family(cfg_, tokenizer_.get());
    chat_kind_ = family_.chat;
    if (tokenizer_ && (!opt.chat_template.empty() || !text::load_chat_template(dir).empty()))
        chat_kind_ = text::resolve_chat_template(dir, opt.chat_template);
    // LLaDA-V ships LLaDA's template; its conversation adds the system turn and the image markers.
    if (chat_kind_ == text::ChatTemplateKind::Llada && family_.chat == text::ChatTemplateKind::LladaV)
        chat_kind_ = text::ChatTemplateKind::LladaV;
}

const text::Tokenizer& Engine::tokenizer() const {
    check(tokenizer_ != nullptr, "the model folder has no tokenizer (tokenizer.json or vocab.json + "
                                 "merges.txt): pass raw ids with --prompt-ids");
    return *tokenizer_;
}

std::string Engine::chat_text(const std::vector<text::ChatMessage>& messages) const {
    return text::render_chat(messages, true, chat_kind_);
}

std::vector<int64_t> Engine::chat_ids(const std::vector<text::ChatMessage>& messages, size_t max_tokens) const {
    if (chat_kind_ == text::ChatTemplateKind::LladaV)
        return text::tokenize_with_images(tokenizer(), chat_text(messages), text::kLladaImageMarker, cfg_.ids.image,
                                          tokenizer().token_id("<|startoftext|>"), max_tokens);
    const std::vector<int32_t> ids = tokenizer().encode(chat_text(messages), max_tokens);
    return {ids.begin(), ids.end()};
}

void Engine::check_prompt_limits(size_t tokens, size_t images) const {
    check(int64_t(images) <= limits_.images, "the prompt has ", images, " images, more than the ", limits_.images,
          " the memory plan was made for");
    check(int64_t(tokens) <= limits_.prompt_tokens, "the prompt has ", tokens,
          " tokens (image tokens included), more than the ", limits_.prompt_tokens,
          " the memory plan was made for (--max-prompt-tokens)");
}

// LLaDA-V: each image id in turn becomes its image's rows (anyres crops through the tower).
Prompt Engine::llava_prompt(const std::vector<int64_t>& ids, const std::vector<Image>& images) const {
    const size_t placeholders = size_t(std::count(ids.begin(), ids.end(), cfg_.ids.image));
    check(placeholders == images.size(), "the prompt has ", placeholders, " image places but ", images.size(),
          " images were given");
    std::vector<int64_t> expanded;
    size_t image = 0;
    for (int64_t id : ids) {
        if (id != cfg_.ids.image) {
            expanded.push_back(id);
            continue;
        }
        const Image& im = images[image++];
        const int64_t n = llava_->rows_for(im.width, im.height);
        expanded.insert(expanded.end(), size_t(n), id);
    }
    check_prompt_limits(expanded.size(), images.size());  // before the tower runs
    if (images.empty()) return make_prompt(*lm_, expanded);
    std::vector<Tensor> parts;
    for (const Image& im : images) parts.push_back(llava_->encode(im));
    const Tensor image_rows = Tensor::concat_rows(parts);
    return make_prompt(*lm_, expanded, {}, &image_rows);
}

Prompt Engine::prompt(std::vector<int64_t> ids, const std::vector<Image>& images) const {
    if (llava_) return llava_prompt(ids, images);
    if (images.empty()) return prompt(ids, Tensor(), {});
    std::vector<PixelValues> pixels;
    std::vector<ImageGrid> grids;
    int64_t rows = 0;
    for (const Image& img : images) {
        pixels.push_back(preprocess_image(img, pre_));
        grids.push_back(pixels.back().grid);
        rows += pixels.back().values.dim(0);
    }
    Tensor all = Tensor::f32({rows, pixels.front().values.dim(1)});
    int64_t r = 0;
    for (const PixelValues& p : pixels) {
        std::copy_n(p.values.data<float>(), p.values.numel(), all.row(r));
        r += p.values.dim(0);
    }
    return prompt(ids, all, grids);
}

Prompt Engine::prompt(const std::vector<int64_t>& ids, const Tensor& pixels, std::span<const ImageGrid> grids) const {
    check(!llava_ || grids.empty(), "this model takes images as pictures (its anyres crops), not as pixel rows");
    if (llava_) return llava_prompt(ids, {});
    const int64_t pad = cfg_.ids.image;
    const int64_t merge = cfg_.vision ? cfg_.vision->spatial_merge_size : 2;
    // Each image's tokens: one placeholder, or a run already as long as the image's merged patches.
    std::vector<int64_t> expanded;
    size_t image = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (pad < 0 || ids[i] != pad) {
            expanded.push_back(ids[i]);
            continue;
        }
        size_t run = 1;
        while (i + run < ids.size() && ids[i + run] == pad) ++run;
        check(image < grids.size(), "the prompt has more image placeholders than the ", grids.size(),
              " images given");
        const ImageGrid& g = grids[image++];
        const int64_t tokens = g.t * g.h * g.w / (merge * merge);
        check(run == 1 || int64_t(run) == tokens, "a run of ", run, " image tokens stands for an image of ", tokens,
              " merged patches (grid ", g.t, ",", g.h, ",", g.w, "): give one placeholder or exactly ", tokens);
        expanded.insert(expanded.end(), size_t(tokens), pad);
        i += run - 1;
    }
    check(image == grids.size(), "the prompt has ", image, " image placeholders but ", grids.size(),
          " images were given");
    check_prompt_limits(expanded.size(), grids.size());
    if (grids.empty()) return make_prompt(*lm_, expanded);
    const Tensor image_rows = encode_images(pixels, grids);
    return make_prompt(*lm_, expanded, grids, &image_rows);
}

Tensor Engine::logits(const Prompt& prompt) const {
    ForwardInput in;
    in.batch = 1;
    in.len = int64_t(prompt.ids.size());
    in.embeddings = prompt.embeddings;
    in.positions = prompt.positions.ids;
    std::vector<int64_t> every_row(prompt.ids.size());
    std::iota(every_row.begin(), every_row.end(), 0);
    return lm_->logits(lm_->forward(in), every_row);
}

Tensor Engine::encode_images(const Tensor& pixels, std::span<const ImageGrid> grids) const {
    check(vision_ != nullptr, llava_ ? "this model takes images as pictures, not as pixel rows"
                                     : "this model has no vision tower: it cannot take images");
    return vision_->encode(pixels, grids);
}

std::map<int64_t, int64_t> Engine::priors(const std::string& answer_template, std::optional<int64_t> length,
                                          int64_t max_new_tokens) const {
    std::map<int64_t, int64_t> fixed;
    if (!answer_template.empty()) {
        const text::Tokenizer& tok = tokenizer();
        // A piece of more than max_new_tokens tokens is refused whatever its own count.
        fixed = template_priors(parse_answer_template(answer_template),
                                [&](std::string_view s) { return tok.encode(s, size_t(max_new_tokens)); },
                                max_new_tokens);
    }
    if (length) add_length_prior(fixed, *length, max_new_tokens, cfg_.ids.eos, cfg_.ids.pad);
    return fixed;
}

std::string Engine::answer_text(const std::vector<int64_t>& answer) const {
    if (!tokenizer_) return {};
    std::vector<int32_t> ids;
    // A model's vocabulary may be larger than its tokenizer's (LLaDA: 126464 rows, 126349 tokens):
    // ids that name no token add no text, as in the server's answers.
    for (auto it = answer.begin(); it != answer.begin() + answer_length(answer); ++it)
        if (*it != cfg_.ids.mask && *it != cfg_.ids.pad && !tokenizer_->token_text(int32_t(*it)).empty())
            ids.push_back(int32_t(*it));
    return tokenizer_->decode(ids, true);
}

int64_t Engine::answer_length(const std::vector<int64_t>& answer) const {
    const std::vector<int64_t>& end = family_.end_ids;
    return int64_t(std::find_first_of(answer.begin(), answer.end(), end.begin(), end.end()) - answer.begin());
}

}  // namespace dimple
