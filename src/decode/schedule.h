// The diffusion time schedule and how many tokens each step commits.
#pragma once

#include <cstdint>
#include <vector>

namespace dimple {

// float32 linspace(1, eps, steps + 1) bit for bit as torch's CPU kernel computes it (quirk G7 of
// the goldens): the two halves are anchored at opposite ends with one fused multiply-add each, and
// full blocks of 16 are filled as two 8-wide vectors that add step*j to their first element.
std::vector<float> diffusion_timesteps(int steps, float eps);

// dim pipeline (quirk G4): tokens to commit at step i with `masks` masks left of `initial`. Also
// returns the timestep index s it settled on (origin-ratio uses timesteps[s] / r).
struct DimTransfer {
    int64_t count = 0;
    int s = 0;
    float ratio = 1.f;  // r = masks / initial, in f32
};
DimTransfer dim_transfer(const std::vector<float>& timesteps, int step, int64_t masks, int64_t initial);

// dream pipeline: int(f32(masks * (1 - s/t))) with t = timesteps[i], s = timesteps[i+1]; all masks at
// the last step.
int64_t dream_transfer(const std::vector<float>& timesteps, int step, int64_t masks);

}  // namespace dimple
