#include "decode/generate.h"


#include "core/error.h"
#include "decode/batch_forward.h"
#include "decode/decode_state.h"

namespace dimple {

Pipeline parse_pipeline(const std::string& s) {
    if (s == "dim") return Pipeline::Dim;
    if (s == "dream") return Pipeline::Dream;
    if (s == "llada") return Pipeline::Llada;
    fail("unknown pipeline '", s, "' (expected dim, dream or llada)");
}

Remasking parse_remasking(const std::string& s) {
    if (s == "low_confidence" || s == "low-confidence") return Remasking::LowConfidence;
    if (s == "random") return Remasking::Random;
    fail("unknown remasking '", s, "' (expected low_confidence or random)");
}

std::string remasking_name(Remasking r) { return r == Remasking::LowConfidence ? "low_confidence" : "random"; }

Algorithm parse_algorithm(const std::string& s) {
    if (s == "origin") return Algorithm::Origin;
    if (s == "origin-ratio" || s == "origin_ratio") return Algorithm::OriginRatio;
    if (s == "autoregressive") return Algorithm::Autoregressive;
    if (s == "maskgit_plus" || s == "maskgit-plus") return Algorithm::MaskgitPlus;
    if (s == "topk_margin" || s == "topk-margin") return Algorithm::TopkMargin;
    if (s == "entropy") return Algorithm::Entropy;
    fail("unknown decoding algorithm '", s,
         "' (expected origin, origin-ratio, autoregressive, maskgit_plus, topk_margin or entropy)");
}

std::string pipeline_name(Pipeline p) {
    switch (p) {
        case Pipeline::Dim: return "dim";
        case Pipeline::Dream: return "dream";
        case Pipeline::Llada: return "llada";
    }
    return "?";
}

std::string algorithm_name(Algorithm a) {
    switch (a) {
        case Algorithm::Origin: return "origin";
        case Algorithm::OriginRatio: return "origin-ratio";
        case Algorithm::Autoregressive: return "autoregressive";
        case Algorithm::MaskgitPlus: return "maskgit_plus";
        case Algorithm::TopkMargin: return "topk_margin";
        case Algorithm::Entropy: return "entropy";
    }
    return "?";
}

GenerateResult generate(const LanguageModel& lm, const Prompt& prompt, const GenerateOptions& opt,
                        const StepCallback& on_step, bool collect_debug) {
    DecodeState state(lm, prompt, opt, collect_debug);
    DecodeState* const one = &state;
    while (!state.finished()) {
        if (const std::exception_ptr e = step_together(lm, {&one, 1}).front()) std::rethrow_exception(e);
        if (on_step) on_step(state.result().steps_run - 1, state.result().history.back());
    }
    return state.take_result();
}

}  // namespace dimple
