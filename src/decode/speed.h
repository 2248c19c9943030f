// `--speed`: named settings of the faster-decoding options (decode/acceleration.h), chosen per model
// family (engine/family.h) from what they cost and save on its models (BENCHMARKS.md, "Speed
// presets"). Exact decoding is the family's published call.
#pragma once

#include <map>
#include <string>

#include "decode/generate.h"

namespace dimple {

enum class Speed { Exact, Fast, Faster };

struct SpeedPreset {
    Acceleration accel;
    bool prefill = false;  // turns prefilling on (pruning and layer skipping need it)
};

Speed parse_speed(const std::string& s);  // "exact" | "fast" | "faster"; throws dimple::Error
std::string speed_name(Speed s);

// `o` with `speed`'s preset of `speeds` in place of its faster-decoding options (before a request's
// own options change them); throws dimple::Error when the family has no such preset.
void apply_speed(GenerateOptions& o, Speed speed, const std::map<Speed, SpeedPreset>& speeds);

}  // namespace dimple
