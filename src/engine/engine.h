// A loaded model ready to answer requests: the checkpoint, the language model, the vision tower
// when the model has one, the tokenizer and chat template when the folder has them. The CLI and
// the server both go through here: request -> prompt (tokens, images) -> diffusion -> answer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decode/generate.h"
#include "engine/family.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "model/language_model.h"
#include "model/memory_plan.h"
#include "model/prompt.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "vision/encoder.h"
#include "vision/llava_encoder.h"
#include "vision/image.h"

namespace dimple {

struct EngineOptions {
    Compute compute = Compute::Auto;  // resolved before loading by the memory plan (model/memory_plan.h)
    std::string chat_template;  // a family name to force; empty = detect from the folder
    uint64_t memory_limit = 0;  // bytes the model may use; 0 = what the machine/cgroup has available
    RequestLimits limits;       // the largest request it will run: sizes the working memory
    bool announce_plan = true;  // say on stderr what `auto` chose (the commands); a library stays quiet
    // Store every int8 layer's packed weights there while loading (`dimple quantize --packed`).
    PackedWeightsWriter* record_packed = nullptr;
};

class Engine {
public:
    Engine(const std::string& model_dir, const EngineOptions& opt);

    const ModelConfig& config() const { return cfg_; }
    // The family's published decoding call, chat template and answer end ids (engine/family.h).
    const Family& family() const { return family_; }
    // The compute mode the model was loaded in, and why (what `auto` chose, with the figures).
    const ComputePlan& compute_plan() const { return plan_; }
    const RequestLimits& limits() const { return limits_; }
    const LanguageModel& language_model() const { return *lm_; }
    bool has_vision() const { return vision_ != nullptr || llava_ != nullptr; }
    // The tokenizer, or an error saying the folder has none.
    const text::Tokenizer& tokenizer() const;
    bool has_tokenizer() const { return tokenizer_ != nullptr; }

    // The prompt text the chat template makes of the messages (images as placeholders), ending
    // with the opening of the assistant's turn.
    std::string chat_text(const std::vector<text::ChatMessage>& messages) const;
    // Renders the chat template over the messages (images as placeholders: image-pad tokens, or the
    // image id where LLaDA-V's text holds "<image>") and tokenizes it. With
    // `max_tokens`, a prompt of more tokens stops being encoded past them (Tokenizer::encode) and
    // holds more than max_tokens ids, not its own.
    std::vector<int64_t> chat_ids(const std::vector<text::ChatMessage>& messages, size_t max_tokens = SIZE_MAX - 1) const;
    // Expands each image-pad token to its image's merged patch count, encodes the images once,
    // and returns the prompt with their rows in place. One image per image-pad token, in order.
    // A prompt longer than limits().prompt_tokens, or with more images, is refused (Error).
    // LLaDA-V: each image id becomes the image's anyres rows.
    Prompt prompt(std::vector<int64_t> ids, const std::vector<Image>& images) const;
    // The same from images already preprocessed: `pixels` holds their processor rows one image
    // after the other, `grids` their t,h,w. An image may also appear as a run of exactly its
    // merged patch count of image-pad tokens (ids as the processor expanded them).
    Prompt prompt(const std::vector<int64_t>& ids, const Tensor& pixels, std::span<const ImageGrid> grids) const;

    // Logits [ids, vocab] of every row of one bidirectional pass over the prompt.
    Tensor logits(const Prompt& prompt) const;

    // Projected vision rows [sum t*h*w/4, hidden] of images already preprocessed into `pixels`.
    Tensor encode_images(const Tensor& pixels, std::span<const ImageGrid> grids) const;

    // Answer-region priors from a template (see decode/priors.h) and/or an exact length.
    std::map<int64_t, int64_t> priors(const std::string& answer_template, std::optional<int64_t> length,
                                      int64_t max_new_tokens) const;

    // The answer's text: tokens up to the first end id (eos; LLaDA: also <|eot_id|>), special tokens
    // skipped.
    std::string answer_text(const std::vector<int64_t>& answer) const;
    // How many answer tokens come before the first end id (the answer's length).
    int64_t answer_length(const std::vector<int64_t>& answer) const;

private:
    Prompt llava_prompt(const std::vector<int64_t>& ids, const std::vector<Image>& images) const;
    void check_prompt_limits(size_t tokens, size_t images) const;

    ModelConfig cfg_;
    PreprocessorConfig pre_;
    std::unique_ptr<Checkpoint> ckpt_;
    ComputePlan plan_;
    RequestLimits limits_;
    std::unique_ptr<LanguageModel> lm_;
    std::unique_ptr<VisionEncoder> vision_;
    std::unique_ptr<LlavaVisionEncoder> llava_;
    std::unique_ptr<text::Tokenizer> tokenizer_;
    text::ChatTemplateKind chat_kind_ = text::ChatTemplateKind::Qwen2VL;
    Family family_;
};

}  // namespace dimple
