// Diffusion decoding (`diffusion_generate`, spec sections 7-8): the answer starts as masks and each
// step predicts every mask in one bidirectional pass, committing some.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "decode/acceleration.h"
#include "decode/sampling.h"
#include "model/prompt.h"

namespace dimple {

enum class Pipeline { Dim, Dream, Llada };
// Which masks a llada step commits: the most confident (softmax probability of the chosen token) or
// random ones.
enum class Remasking { LowConfidence, Random };
enum class Algorithm { Origin, OriginRatio, Autoregressive, MaskgitPlus, TopkMargin, Entropy };

Pipeline parse_pipeline(const std::string& s);
Algorithm parse_algorithm(const std::string& s);
Remasking parse_remasking(const std::string& s);
std::string pipeline_name(Pipeline p);
std::string remasking_name(Remasking r);
std::string algorithm_name(Algorithm a);

struct GenerateOptions {
    int max_new_tokens = 64;
    int steps = 64;
    float eps = 1e-3f;
    Pipeline pipeline = Pipeline::Dim;
    Algorithm alg = Algorithm::Origin;
    SamplingOptions sampling{0.2f, 0.95f, 50};
    float alg_temp = 0.f;                  // > 0: sample committed positions by softmax(conf / alg_temp)
    bool use_original_confidence = true;   // dim only
    std::optional<float> threshold = 0.95f;  // confident decoding (dim only); unset or 0 = off
    bool use_cache = true;                 // prefilling
    uint64_t seed = 0;
    std::map<int64_t, int64_t> fixed;      // structure priors: answer offset -> token id
    Acceleration accel;                    // opt-in faster decoding (approximations, acceleration.h)
    // llada pipeline (blocks: accel.block_length, 0 = one block; threshold: Fast-dLLM's parallel
    // decoding, commits every token above it instead of the fixed counts).
    Remasking remasking = Remasking::LowConfidence;
    float cfg_scale = 0.f;              // > 0: classifier-free guidance against the prompt masked out
    std::vector<int64_t> banned_ids;    // never chosen at a mask (LLaDA-V: eos, bos, header ids)
    std::vector<int64_t> stop_ids;      // the answer ends before the first committed one of these
    // The visual-token redundancy study: record, each step, the attention that the rows predicting
    // masks give the image tokens at every layer (GenerateResult::image_attention). Slow (plain
    // loops over every key); not with pruning or dLLM-Cache.
    bool measure_image_attention = false;
};

// What one step looked at, for tests and the parity tools (like generation.json's step_debug).
struct StepDebug {
    int64_t tokens_fed = 0;
    std::vector<int64_t> mask_positions;  // absolute
    std::vector<int64_t> argmax;          // of the full softmax at each masked position
    std::vector<float> p_top1, p_top2;
};

struct GenerateResult {
    std::vector<int64_t> sequence;                // prompt + answer
    std::vector<std::vector<int64_t>> history;    // the answer after each step run
    int steps_run = 0;
    std::vector<double> step_seconds;
    std::vector<StepDebug> debug;                 // filled when asked
    // With measure_image_attention, per step run and layer: the share of attention mass the rows
    // predicting masks give the image tokens (averaged over those rows and the heads; NaN: skipped).
    std::vector<std::vector<float>> image_attention;
};

// Called after every step with the answer so far (masks still in place) and the step index.
using StepCallback = std::function<void(int step, const std::vector<int64_t>& answer)>;

GenerateResult generate(const LanguageModel& lm, const Prompt& prompt, const GenerateOptions& opt,
                        const StepCallback& on_step = {}, bool collect_debug = false);

}  // namespace dimple
