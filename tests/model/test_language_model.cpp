#include <gtest/gtest.h>

#include "io/npy.h"
#include "model/language_model.h"
#include "testing.h"

using namespace dimple;

namespace {

constexpr int64_t kImagePad = 2006;

struct GoldenForward {
    Tensor hidden;  // final-normed [B*L, H]
    Tensor logits;  // [B*L, V]
    std::vector<Tensor> trace;
};

// Runs the engine on a golden forward case; image rows come from the golden projector output so
// that this test covers the language model alone.
GoldenForward run_case(const LanguageModel& lm, const std::string& prefix, std::vector<ImageGrid> grids) {
    const std::string g = dtest::golden_dir() + "/" + prefix;
    const Tensor ids = read_npy(g + "_input_ids.npy"), mask = read_npy(g + "_attention_mask.npy");
    const int64_t B = ids.dim(0), L = ids.dim(1);
    ForwardInput in;
    in.batch = B;
    in.len = L;
    in.embeddings = lm.embed({ids.data<int64_t>(), size_t(B * L)});
    in.valid.resize(size_t(B * L));
    for (int64_t i = 0; i < B * L; ++i) in.valid[size_t(i)] = uint8_t(mask.data<int64_t>()[i]);
    if (!grids.empty()) {
        const Tensor proj = read_npy(g + "_projected.npy");
        int64_t r = 0;
        for (int64_t i = 0; i < B * L; ++i)
            if (ids.data<int64_t>()[i] == kImagePad)
                std::copy_n(proj.row(r++), proj.dim(1), in.embeddings.row(i));
        EXPECT_EQ(r, proj.dim(0));
    }
    for (int64_t b = 0; b < B; ++b) {
        const Positions p = compute_positions({ids.data<int64_t>() + b * L, size_t(L)},
                                              {in.valid.data() + b * L, size_t(L)}, kImagePad, grids, 2);
        in.positions.insert(in.positions.end(), p.ids.begin(), p.ids.end());
    }
    GoldenForward out;
    in.trace = &out.trace;
    out.hidden = lm.forward(in);
    std::vector<int64_t> rows(static_cast<size_t>(B * L));
    for (int64_t i = 0; i < B * L; ++i) rows[size_t(i)] = i;
    out.logits = lm.logits(out.hidden, rows);
    return out;
}

// Compares with the golden logits and hidden states elementwise (atol + 1e-4 relative).
void check_case(Compute compute, const std::string& prefix, std::vector<ImageGrid> grids,
                double logit_atol, double hidden_atol) {
    DIMPLE_REQUIRE_SHARED();
    const std::string dir = dtest::golden_dir();
    const Checkpoint ck(dir + "/model");
    const LanguageModel lm(ck, load_model_config(dir + "/model"), compute);
    const GoldenForward f = run_case(lm, prefix, grids);
    const Tensor logits = read_npy(dir + "/" + prefix + "_logits.npy");
    std::printf("%s %s: max |logit error| %.3g\n", compute_name(compute).c_str(), prefix.c_str(),
                dtest::max_abs_diff(f.logits, logits));
    EXPECT_TRUE(dtest::all_close(f.logits.reshape(logits.shape()), logits, logit_atol, 1e-4)) << prefix;
    const Tensor hs = read_npy(dir + "/" + prefix + "_hidden_states.npy");
    ASSERT_EQ(f.trace.size(), 3u);
    const int64_t per = hs.numel() / 3;
    for (int64_t s = 0; s < 3; ++s) {
        const Tensor golden = hs.reshape({3, per}).slice_rows(s, s + 1).reshape({per});
        EXPECT_TRUE(dtest::all_close(f.trace[size_t(s)].reshape({per}), golden, hidden_atol, 1e-4))
            << prefix << " hidden state " << s;
        std::printf("%s %s: max |hidden %lld error| %.3g\n", compute_name(compute).c_str(),
                    prefix.c_str(), (long long)s, dtest::max_abs_diff(f.trace[size_t(s)].reshape({per}), golden));
    }
}

}  // namespace

// Parity mode: the tolerances of the goldens' README.
TEST(LanguageModelF32, Text) { check_case(Compute::F32, "text", {}, 1e-3, 5e-4); }
TEST(LanguageModelF32, LeftPaddedBatch) { check_case(Compute::F32, "batch", {}, 1e-3, 5e-4); }
TEST(LanguageModelF32, Image) { check_case(Compute::F32, "image", {{1, 8, 12}}, 1e-3, 5e-4); }
TEST(LanguageModelF32, TwoImages) { check_case(Compute::F32, "two", {{1, 8, 12}, {1, 10, 14}}, 1e-3, 5e-4); }

// Fast mode: bf16 activations into every product (8 mantissa bits, so about 0.4% per rounding).
// Measured worst absolute errors: text logits 0.20, hidden 0.074; two-image logits 0.40, hidden 0.11
// (logits reach 14 in magnitude). The bounds leave about 2x margin.
TEST(LanguageModelBF16, Text) { check_case(Compute::BF16, "text", {}, 0.4, 0.15); }
TEST(LanguageModelBF16, TwoImages) { check_case(Compute::BF16, "two", {{1, 8, 12}, {1, 10, 14}}, 0.75, 0.2); }
