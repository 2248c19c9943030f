// Normally distributed inputs for the benchmarks (values do not matter to a timing, only that they
// are not all equal and are the same run to run).
#pragma once

#include <random>
#include <vector>

inline std::vector<float> random_normal(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist;
    std::vector<float> x(n);
    for (float& v : x) v = dist(gen);
    return x;
}
