#include "model/dllm_cache.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace dimple {

namespace {

// A whole field of `s` as a T (from_chars: no locale, no leading '+' or spaces, nothing left over).
template <typename T>
T parse_field(const std::string& s, const char* what, const std::string& whole) {
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    check(!s.empty() && ec == std::errc() && end == s.data() + s.size(), "--dllm-cache \"", whole, "\": the ", what,
          " \"", s, "\" is not a number");
    return v;
}

}  // namespace

DllmCacheSettings parse_dllm_cache(const std::string& s) {
    std::vector<std::string> parts;
    std::stringstream in(s);
    for (std::string p; std::getline(in, p, ',');) parts.push_back(p);
    check(parts.size() == 3 && s.back() != ',', "--dllm-cache \"", s,
          "\": expected PROMPT_INTERVAL,GEN_INTERVAL,TRANSFER_RATIO, e.g. 25,7,0.25");
    DllmCacheSettings d{parse_field<int>(parts[0], "prompt interval", s), parse_field<int>(parts[1], "gen interval", s),
                        parse_field<double>(parts[2], "transfer ratio", s)};
    validate_dllm_cache(d);
    return d;
}

std::string dllm_cache_text(const DllmCacheSettings& s) {
    if (!s.enabled()) return "off";
    return cat(s.prompt_interval, ",", s.gen_interval, ",", s.transfer_ratio);
}

void validate_dllm_cache(const DllmCacheSettings& s) {
    check(s.prompt_interval >= 1 && s.prompt_interval <= 1 << 16 && s.gen_interval >= 1 && s.gen_interval <= 1 << 16,
          "dLLM-Cache: the prompt and gen intervals must be in [1, 65536] (got ", s.prompt_interval, " and ",
          s.gen_interval, ")");
    check(s.transfer_ratio >= 0 && s.transfer_ratio <= 1, "dLLM-Cache: the transfer ratio must be in [0, 1] (got ",
          s.transfer_ratio, ")");
}

DllmRefresh dllm_refresh(const DllmCacheSettings& s, int t) {
    return {(t - 1) % s.prompt_interval == 0, (t - 1) % s.gen_interval == 0};
}

std::vector<int64_t> least_similar_rows(const float* fresh, int64_t fresh_stride, const float* cached,
                                        int64_t cached_stride, int64_t n, int64_t width, double ratio) {
    const int64_t k = std::min(n, int64_t(double(n) * ratio));  // Python's int(n * ratio), ratio a double
    if (k <= 0) return {};
    // torch.nn.functional.cosine_similarity: each norm clamped to at least eps = 1e-8.
    std::vector<double> sim(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
        const float* a = fresh + r * fresh_stride;
        const float* b = cached + r * cached_stride;
        double ab = 0, aa = 0, bb = 0;
        for (int64_t i = 0; i < width; ++i) {
            ab += double(a[i]) * b[i];
            aa += double(a[i]) * a[i];
            bb += double(b[i]) * b[i];
        }
        sim[size_t(r)] = ab / (std::max(std::sqrt(aa), 1e-8) * std::max(std::sqrt(bb), 1e-8));
    }
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return sim[size_t(x)] < sim[size_t(y)]; });
    order.resize(size_t(k));
    std::sort(order.begin(), order.end());
    return order;
}

}  // namespace dimple
