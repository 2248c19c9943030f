#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "decode/schedule.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;

TEST(Schedule, TimestepsAreBitIdenticalToTorch) {
    for (int steps : {8, 16}) {
        const Tensor golden = read_npy(dtest::golden_dir() + "/timesteps_steps" + std::to_string(steps) + ".npy");
        const std::vector<float> t = diffusion_timesteps(steps, 1e-3f);
        ASSERT_EQ(int64_t(t.size()), golden.numel());
        EXPECT_EQ(std::memcmp(t.data(), golden.raw(), t.size() * 4), 0) << "steps " << steps;
    }
}

TEST(Schedule, TimestepsMatchTorchForEveryStepCount) {
    // torch.linspace itself (Debian's python3-torch, the same CPU kernel as the goldens) for
    // steps 1..600; its last element is not always exactly eps (e.g. steps 15), and ours must not be either.
    const char* script =
        "import torch,struct\n"
        "for s in range(1,601):\n"
        "  t=torch.linspace(1,1e-3,s+1)\n"
        "  print(' '.join(struct.pack('<f',v).hex() for v in t.tolist()))\n";
    FILE* p = popen(("/usr/bin/python3 -c \"" + std::string(script) + "\" 2>/dev/null").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0 || out.empty()) {
        if (std::getenv("CI")) FAIL() << "/usr/bin/python3 with torch is required in CI";
        GTEST_SKIP() << "/usr/bin/python3 with torch is not available";
    }
    std::istringstream lines(out);
    std::string line;
    int steps = 0;
    while (std::getline(lines, line)) {
        ++steps;
        const std::vector<float> t = diffusion_timesteps(steps, 1e-3f);
        std::istringstream words(line);
        std::string hex;
        size_t i = 0;
        for (; words >> hex; ++i) {
            uint32_t bits = 0;
            for (int b = 3; b >= 0; --b) bits = (bits << 8) | uint32_t(std::stoul(hex.substr(size_t(2 * b), 2), nullptr, 16));
            float v;
            std::memcpy(&v, &bits, 4);
            ASSERT_LT(i, t.size());
            ASSERT_EQ(t[i], v) << "steps " << steps << " index " << i;
        }
        ASSERT_EQ(i, t.size()) << "steps " << steps;
    }
    EXPECT_EQ(steps, 600);
}

TEST(Schedule, DimTransferSkipsStepsThatWouldCommitNothing) {
    const std::vector<float> t = diffusion_timesteps(16, 1e-3f);
    // 16 masks at step 0: s = 1 gives int(16 * 0.0624...) = 0, so the schedule moves on to s = 2.
    const DimTransfer d = dim_transfer(t, 0, 16, 16);
    EXPECT_EQ(d.count, 1);
    EXPECT_EQ(d.s, 2);
    // The last step commits everything left.
    EXPECT_EQ(dim_transfer(t, 15, 5, 16).count, 5);
    EXPECT_EQ(dream_transfer(t, 15, 5), 5);
    EXPECT_EQ(dream_transfer(t, 0, 16), 0);  // int(16 * 0.0624375)
}
