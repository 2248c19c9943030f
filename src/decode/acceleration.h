// Faster decoding from the dMLLM literature, each opt-in and each an approximation of exact
// decoding unless stated: early stop, block-wise semi-autoregressive decoding with a dual cache
// (Fast-dLLM, arXiv 2505.22618), layer skipping and visual-token pruning (FastV; the variants of
// arXiv 2511.15098). BENCHMARKS.md states what each costs in accuracy on the trained model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/dllm_cache.h"

namespace dimple {

enum class EarlyStop {
    Off,
    // End the step loop once no mask is left before the first committed eos. Exact: the answer's
    // text ends at its first eos and committed tokens never change, so nothing later can alter it.
    Loop,
    // Loop, and also stop feeding the rows after the eos once all of them are committed (as eos or
    // pad). An approximation: the remaining masks no longer attend to those rows.
    Rows,
};

// When visual-token pruning happens: once in the first pass (FastV), in steps from `prune_step`
// on only (late), or a growing share from the first pass until `prune_step` (progressive).
enum class PruneWhen { Prefill, Late, Progressive };

struct Acceleration {
    EarlyStop early_stop = EarlyStop::Off;
    // > 0: semi-autoregressive blocks of this many answer tokens, left to right: only masks of the
    // leftmost unfinished block are predicted and committed (those above the threshold, at least the
    // most confident one; without a threshold an even share of the block's steps).
    int block_length = 0;
    // With blocks: keep the keys/values of the answer outside the active block between steps and feed
    // only the block; refreshed when a block is finished and, if > 0, every `cache_refresh` steps.
    bool dual_cache = false;
    int cache_refresh = 0;
    // Decoder layers skipped by the answer rows in steps from `skip_from_step` on (prefilling needed).
    std::vector<int> skip_layers;
    int skip_from_step = 1;
    // >= 0: after this decoder layer keep only `prune_keep` of the image tokens, those receiving the
    // most attention from the text and answer rows (summed over heads and queries).
    int prune_layer = -1;
    float prune_keep = 1.f;
    PruneWhen prune_when = PruneWhen::Prefill;
    int prune_step = 4;
    // dLLM-Cache (llada pipeline, without prefilling): rows refreshed at intervals, the others'
    // layer outputs reused; off unless its intervals are set.
    DllmCacheSettings dllm_cache;

    bool prunes() const { return prune_layer >= 0 && prune_keep < 1.f; }
};

EarlyStop parse_early_stop(const std::string& s);
PruneWhen parse_prune_when(const std::string& s);
std::string early_stop_name(EarlyStop e);
std::string prune_when_name(PruneWhen p);
// Layer indices a list may name: more than any model has (the model's own count is checked later,
// by validate_acceleration).
constexpr int kMaxLayers = 1024;

// "20,22,24", "14-27" or "15-27/2" (every second layer from 15 to 27), or a mix: "1,14-27/2";
// sorted, without repeats.
std::vector<int> parse_layer_list(const std::string& s);

// Throws dimple::Error naming the option that `layers` decoder layers or the other options rule out.
void validate_acceleration(const Acceleration& a, int layers, bool use_cache);

// The share of image tokens kept at `step` (1 before pruning starts).
float prune_keep_at(const Acceleration& a, int step);

}  // namespace dimple
