#include "cli/decoding_options.h"

namespace dimple::cli {

void add_decoding_options(Command& cmd, DecodingOptions& o) {
    // Options whose default is the model family's published call say so instead of a number.
    const std::string own = " (default: the model's own; Dimple ";
    cmd.option("-n,--max-new-tokens", o.max_new_tokens, "Answer length in tokens (masks)" + own + "64, LLaDA 128)");
    cmd.option("-s,--steps", o.steps, "Diffusion steps at most" + own + "64, LLaDA 128)");
    cmd.option("--alg", o.alg, "origin | origin-ratio | autoregressive | maskgit_plus | topk_margin | entropy")
        .show_default();
    cmd.option("--pipeline", o.pipeline, "dim (Dimple) | dream (Dream's original) | llada (LLaDA's)" + own + "dim, LLaDA llada)");
    cmd.option("--threshold", o.threshold, "Commit every token above it (0: off; Dimple's confident decoding, "
               "Fast-dLLM's parallel decoding for llada)" + own + "0.95, LLaDA 0)");
    cmd.option("-t,--temperature", o.temperature, "0 = greedy" + own + "0.2, LLaDA 0)");
    cmd.option("--top-p", o.top_p, "Nucleus filter (1: off)" + own + "0.95, LLaDA off)");
    cmd.option("--top-k", o.top_k, "Top-k filter (0: off)" + own + "50, LLaDA off)");
    cmd.option("--remasking", o.remasking, "llada: low_confidence | random (default low_confidence)");
    cmd.option("--cfg-scale", o.cfg_scale, "llada: classifier-free guidance scale (default 0: off)");
    cmd.option("--alg-temp", o.alg_temp, "Sample positions by softmax(confidence/alg_temp) (0: top confidences)")
        .show_default();
    cmd.option("--eps", o.eps, "Final timestep of the schedule").show_default();
    cmd.flag("--cache,!--no-cache", o.cache, "Prefilling: reuse the prompt's keys/values" + own + "on, LLaDA off)");
    cmd.flag("--original-confidence,!--processed-confidence", o.original_confidence,
             "dim: confidence from the unfiltered softmax (default on)");
    cmd.option("--seed", o.seed, "Seed of the random choices").show_default();
    cmd.option("--template", o.answer_template,
               "Structure prior for the answer, e.g. '{\"name\": \"<mask:6>\"}' (see README)");
    cmd.option("--length", o.length, "Exact answer length: eos at this offset, then pad");
    cmd.option("--fix-ids", o.fix_ids, "Fix answer positions to raw ids: OFFSET:ID,...");
    // Faster decoding: approximations (but --early-stop loop) measured in BENCHMARKS.md.
    const std::string fast = "Faster decoding (approximate, off by default)";
    cmd.option("--speed", o.speed,
               "exact | fast | faster: the model family's measured presets of the options below (README, "
               "\"Faster decoding\"); options given with it change the preset")
        .show_default().group(fast);
    cmd.option("--early-stop", o.early_stop,
               "off | loop (end once no mask precedes the first eos: exact) | rows (also stop feeding "
               "the rows after it)")
        .show_default().group(fast);
    cmd.option("--block-length", o.block_length,
               "Semi-autoregressive blocks of this many tokens (0: off; llada: its blocks, 0 = one)" + own +
                   "0, LLaDA 32, LLaDA-V one)")
        .group(fast);
    cmd.flag("--dual-cache", o.dual_cache, "With blocks: cache the answer's keys/values outside the block")
        .group(fast);
    cmd.option("--cache-refresh", o.cache_refresh, "Dual cache: also refresh every N steps (0: per block)")
        .show_default().group(fast);
    cmd.option("--skip-layers", o.skip_layers, "Decoder layers the answer skips, e.g. 15-27/2").group(fast);
    cmd.option("--skip-from", o.skip_from, "First step that skips them").show_default().group(fast);
    cmd.option("--prune-layer", o.prune_layer, "Visual-token pruning after this layer (-1: off)")
        .show_default().group(fast);
    cmd.option("--prune-keep", o.prune_keep, "Share of image tokens kept").show_default().group(fast);
    cmd.option("--prune-when", o.prune_when, "prefill | late (from --prune-step) | progressive (until it)")
        .show_default().group(fast);
    cmd.option("--prune-step", o.prune_step, "Step of late / progressive pruning").show_default().group(fast);
    cmd.option("--dllm-cache", o.dllm_cache,
               "llada: LLaDA-V's dLLM-Cache PROMPT_INTERVAL,GEN_INTERVAL,TRANSFER_RATIO (the demo's: 25,7,0.25; "
               "needs --no-cache, LLaDA's default)")
        .group(fast);
}

}  // namespace dimple::cli
