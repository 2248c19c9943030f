#include "decode/speed.h"

#include "core/error.h"

namespace dimple {

Speed parse_speed(const std::string& s) {
    if (s == "exact") return Speed::Exact;
    if (s == "fast") return Speed::Fast;
    if (s == "faster") return Speed::Faster;
    fail("unknown speed \"", s, "\" (exact, fast or faster)");
}

std::string speed_name(Speed s) {
    switch (s) {
        case Speed::Exact: return "exact";
        case Speed::Fast: return "fast";
        case Speed::Faster: return "faster";
    }
    return "exact";
}

void apply_speed(GenerateOptions& o, Speed speed, const std::map<Speed, SpeedPreset>& speeds) {
    if (speed == Speed::Exact) return;
    const auto it = speeds.find(speed);
    check(it != speeds.end(), "speed \"", speed_name(speed), "\": this model family has no measured preset yet "
                              "(set the faster-decoding options one by one)");
    o.accel = it->second.accel;
    if (it->second.prefill) o.use_cache = true;
}

}  // namespace dimple
