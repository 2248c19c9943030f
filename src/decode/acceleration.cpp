#include "decode/acceleration.h"

#include <algorithm>

#include "core/error.h"

namespace dimple {

EarlyStop parse_early_stop(const std::string& s) {
    if (s == "off") return EarlyStop::Off;
    if (s == "loop") return EarlyStop::Loop;
    if (s == "rows") return EarlyStop::Rows;
    fail("unknown early stop '", s, "' (expected off, loop or rows)");
}

PruneWhen parse_prune_when(const std::string& s) {
    if (s == "prefill") return PruneWhen::Prefill;
    if (s == "late") return PruneWhen::Late;
    if (s == "progressive") return PruneWhen::Progressive;
    fail("unknown pruning schedule '", s, "' (expected prefill, late or progressive)");
}

std::string early_stop_name(EarlyStop e) {
    return e == EarlyStop::Off ? "off" : e == EarlyStop::Loop ? "loop" : "rows";
}

std::string prune_when_name(PruneWhen p) {
    return p == PruneWhen::Prefill ? "prefill" : p == PruneWhen::Late ? "late" : "progressive";
}

namespace {

int parse_layer_index(const std::string& s, const std::string& whole) {
    check(!s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }),
          "bad layer list '", whole, "': expected numbers such as 20,22,24 or 14-27 or 15-27/2");
    const int index = std::stoi(s);
    check(index < kMaxLayers, "bad layer list '", whole, "': layer ", index, " is past the last layer any model may have (",
          kMaxLayers - 1, ")");
    return index;
}

}  // namespace

// Every index is bounded before a range is expanded, and ranges are marked into one flag per
// layer: a list of many huge ranges costs its length, not their sum (a server parses these).
std::vector<int> parse_layer_list(const std::string& s) {
    std::vector<bool> listed(kMaxLayers, false);
    size_t start = 0;
    while (start <= s.size()) {
        const size_t comma = std::min(s.find(',', start), s.size());
        const std::string item = s.substr(start, comma - start);
        const size_t dash = item.find('-'), slash = item.find('/');
        if (dash == std::string::npos) {
            check(slash == std::string::npos, "bad layer list '", s, "': a step (/n) needs a range (a-b/n)");
            listed[size_t(parse_layer_index(item, s))] = true;
        } else {
            const int first = parse_layer_index(item.substr(0, dash), s);
            const size_t end = slash == std::string::npos ? item.size() : slash;
            const int last = parse_layer_index(item.substr(dash + 1, end - dash - 1), s);
            const int stride = slash == std::string::npos ? 1 : parse_layer_index(item.substr(slash + 1), s);
            check(first <= last && stride >= 1, "bad layer range '", item, "' in '", s, "'");
            for (int l = first; l <= last; l += stride) listed[size_t(l)] = true;
        }
        start = comma + 1;
    }
    std::vector<int> out;
    for (int l = 0; l < kMaxLayers; ++l)
        if (listed[size_t(l)]) out.push_back(l);
    return out;
}

void validate_acceleration(const Acceleration& a, int layers, bool use_cache) {
    if (a.dllm_cache.enabled()) {  // first: what it rules out would otherwise fail on prefilling
        validate_dllm_cache(a.dllm_cache);
        check(!use_cache, "dLLM-Cache recomputes rows of the whole sequence: run it without prefilling (--no-cache)");
        check(!a.dual_cache && a.skip_layers.empty() && !a.prunes() && a.early_stop != EarlyStop::Rows,
              "dLLM-Cache does not combine with the dual cache, layer skipping, visual-token pruning or early stop "
              "by rows");
    }
    check(a.block_length >= 0, "block length must be >= 0 (got ", a.block_length, ")");
    check(!a.dual_cache || a.block_length > 0, "the dual cache needs blocks (--block-length)");
    check(!a.dual_cache || use_cache, "the dual cache needs prefilling (it is off)");
    check(a.cache_refresh >= 0, "cache refresh must be >= 0 steps (got ", a.cache_refresh, ")");
    for (int l : a.skip_layers)
        check(l >= 0 && l < layers, "layer ", l, " to skip does not exist (the model has ", layers, ")");
    check(a.skip_layers.empty() || use_cache, "layer skipping needs prefilling (it is off)");
    check(a.skip_from_step >= 1, "layer skipping starts at step 1 or later (the first pass fills the cache)");
    check(a.prune_layer < layers - 1, "pruning after layer ", a.prune_layer, " leaves no layer to prune (the model has ",
          layers, ")");
    check(a.prune_keep > 0 && a.prune_keep <= 1, "the share of image tokens kept must be in (0, 1] (got ",
          a.prune_keep, ")");
    check(!a.prunes() || use_cache, "visual-token pruning needs prefilling (it is off)");
    check(a.prune_step >= 1, "the pruning step must be >= 1 (got ", a.prune_step, ")");
}

float prune_keep_at(const Acceleration& a, int step) {
    if (!a.prunes()) return 1.f;
    switch (a.prune_when) {
        case PruneWhen::Prefill: return a.prune_keep;
        case PruneWhen::Late: return step >= a.prune_step ? a.prune_keep : 1.f;
        case PruneWhen::Progressive: {
            const float done = std::min(1.f, float(step + 1) / float(a.prune_step + 1));
            return 1.f - (1.f - a.prune_keep) * done;
        }
    }
    return 1.f;
}

}  // namespace dimple
