// One request's diffusion decoding as a state advanced one step at a time, so that a scheduler can
// run many requests side by side: `dimple run` (generate()) is the scheduler of one request, the
// server the scheduler of many, whose requests share one forward pass per step (batch_forward.h).
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <vector>

#include "decode/generate.h"
#include "decode/llada_schedule.h"

namespace dimple {

// What a request feeds the model at one step: its rows from the first uncached position on.
struct StepFeed {
    Tensor embeddings;                              // [sequence.len, hidden]
    std::vector<std::array<int64_t, 3>> positions;  // [sequence.len]
    PackedSequence sequence;                        // length, cache to read or to fill
    std::vector<int64_t> logit_rows;                // the feed's row that predicts each mask
    std::vector<uint8_t> skip_layers;               // decoder layers this feed skips (empty: none)
    DllmCache* dllm = nullptr;                      // dLLM-Cache: a whole sequence run on its own
};

class DecodeState {
public:
    // Throws dimple::Error for options the model cannot run (see validate_generate_options).
    DecodeState(const LanguageModel& lm, Prompt prompt, const GenerateOptions& opt, bool collect_debug = false);
    DecodeState(const DecodeState&) = delete;
    DecodeState& operator=(const DecodeState&) = delete;

    bool finished() const;
    // Whether the next step predicts masks; a Dream step with none left runs without a pass.
    bool needs_logits() const { return !predict_.empty(); }
    // The model input of the next step (only when needs_logits()); the cache it fills must stay
    // untouched until step() has run.
    StepFeed feed();
    // Classifier-free guidance (llada, cfg_scale > 0): the step also needs the logits of this feed,
    // the same rows with every prompt row masked out.
    bool needs_unconditional() const { return opt_.cfg_scale > 0 && needs_logits(); }
    StepFeed unconditional_feed();
    // Runs the next step given the logits [predicted masks, vocab] of the feed's logit_rows (empty when
    // !needs_logits()) and, with guidance, those of the unconditional feed. `forward_seconds` is what
    // computing the logits took; the result's timing of the step adds the token choice made here.
    void step(const Tensor& logits, double forward_seconds = 0, const Tensor* unconditional = nullptr);
    // llada's random remasking draws one uniform per candidate position and step; a replay of the
    // original's draws (its torch.rand values, for the golden tests) can stand in for the engine's
    // own. `step` counts the schedule's steps (block * steps per block + step in block).
    using UniformSource = std::function<float(int64_t step, int64_t position)>;
    void replay_uniforms(UniformSource source) { uniforms_ = std::move(source); }

    int64_t prompt_len() const { return int64_t(prompt_.ids.size()); }
    // The answer so far, masks still in place.
    std::vector<int64_t> answer() const;
    // Answer offsets committed by the last step.
    const std::vector<int64_t>& committed() const { return committed_; }
    int64_t masks_left() const { return int64_t(mask_pos_.size()); }
    const GenerateResult& result() const { return res_; }
    // dLLM-Cache's state after the last forward (null when off): which rows it recomputed.
    const DllmCache* dllm_cache() const { return opt_.accel.dllm_cache.enabled() ? &dllm_ : nullptr; }
    GenerateResult take_result() { return std::move(res_); }

private:
    void find_masks();
    int64_t first_eos() const;
    bool text_final() const;
    int64_t fed_end() const;
    bool dual_refresh_due() const;
    void plan_pruning(StepFeed& f, int64_t first);
    void plan_image_attention(StepFeed& f, int64_t first);
    void llada_dual_feed(StepFeed& f, int64_t& first, int64_t& end);
    void apply_pruning();
    std::vector<size_t> commits(const std::vector<TokenChoice>& choice);
    // The llada pipeline (decode_state_llada.cpp).
    void find_llada_masks();
    std::vector<TokenChoice> llada_choices(const Tensor& logits, const Tensor* unconditional);
    std::vector<size_t> llada_commits(const std::vector<TokenChoice>& choice);
    void after_llada_step();

    const LanguageModel& lm_;
    Prompt prompt_;
    GenerateOptions opt_;
    bool collect_debug_;
    std::vector<float> ts_;
    Rng rng_;  // the random choices other than the token draws (which choose_tokens seeds per row)
    int64_t initial_masks_ = 0;
    std::vector<int64_t> mask_pos_;  // absolute positions still masked
    std::vector<int64_t> predict_;   // those the next step predicts: all, or the active block's
    std::vector<int64_t> committed_;
    GenerateResult res_;
    // Prefilling: the prompt's keys/values but its last token's, which runs with the answer.
    KvCache cache_;
    bool have_cache_ = false;
    int64_t fed_ = 0;
    std::vector<std::array<int64_t, 3>> positions_;  // prompt + answer
    // Blocks and the dual cache: the answer's keys/values at the last refresh, and those outside the
    // active block joined to the prompt's (built once per refresh).
    int64_t block_ = -1;
    int block_steps_ = 0;
    KvCache answer_cache_, dual_past_;
    int64_t refresh_block_ = -1;
    int refresh_step_ = 0;
    bool dual_past_built_ = false;
    // Visual-token pruning: the prompt keys the cache's layers after the pruning layer still hold.
    VisualPruning prune_;
    std::vector<int64_t> present_;
    int64_t images_ = 0, images_kept_ = 0;
    bool prune_from_cache_ = false;  // this step's pruning chose among cached keys
    ImageAttention image_attention_;
    // llada: the block schedule, the first committed stop id (absolute; the sequence's length while
    // none), and the replayed uniforms of random remasking.
    std::optional<LladaSchedule> llada_;
    int64_t stop_ = 0;
    std::vector<int64_t> infill_;  // prompt positions that began as masks
    UniformSource uniforms_;
    DllmCache dllm_;  // dLLM-Cache: reset with each DecodeState (one generation)
};

// The checks generate() makes before decoding; throws dimple::Error naming the option.
void validate_generate_options(const GenerateOptions& o, const ModelConfig& cfg, int64_t prompt_len);

}  // namespace dimple
