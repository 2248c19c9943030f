// LLaDA-V through the engine against the ORIGINAL code's outputs (tests/goldens/llada-v-tiny): the
// prompt rows (text embeddings and photo 3's anyres image rows spliced at -200), the language
// model's hidden states and logits, and every usable generate_with_embeds run token for token, step
// by step: low-confidence and random remasking (the original's uniforms replayed), cfg with the image
// rows masked out, stop strings. The tiny model is rebuilt before the tests (make_test_goldens.sh).
// Tolerances (goldens README): embeddings/hidden 1e-3 + 1e-4|g| (image rows 1e-4), logits 2e-3 + 1e-4|g|.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <map>

#include "engine/engine.h"
#include "engine/llada_v_runs.h"
#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

using dtest::llada_v::engine;
using dtest::llada_v::goldens;

std::vector<int64_t> ids_of(const Tensor& t) { return {t.data<int64_t>(), t.data<int64_t>() + t.numel()}; }

Image photo3() { return load_image(dtest::images_dir() + "/3_resize.jpg"); }

// The prompt as the engine builds it, and its forward: hidden states and logits of every row.
struct Forward {
    Prompt prompt;
    std::vector<Tensor> trace;
    Tensor logits;
};

Forward run_forward(const std::string& name, bool image) {
    Forward f;
    const std::vector<int64_t> ids = ids_of(read_npy(goldens() + "/lm_" + name + "_input_ids.npy"));
    f.prompt = engine().prompt(ids, image ? std::vector<Image>{photo3()} : std::vector<Image>{});
    ForwardInput in;
    in.batch = 1;
    in.len = int64_t(f.prompt.ids.size());
    in.embeddings = f.prompt.embeddings;
    in.positions = f.prompt.positions.ids;
    in.trace = &f.trace;
    const LanguageModel& lm = engine().language_model();
    std::vector<int64_t> rows(static_cast<size_t>(in.len));
    for (int64_t i = 0; i < in.len; ++i) rows[size_t(i)] = i;
    f.logits = lm.logits(lm.forward(in), rows);
    return f;
}

void check_forward(const std::string& name, bool image, double embed_atol) {
    SCOPED_TRACE(name);
    const Forward f = run_forward(name, image);
    const std::string g = goldens() + "/lm_" + name;
    EXPECT_TRUE(dtest::all_close(f.prompt.embeddings, read_npy(g + "_inputs_embeds.npy"), embed_atol, 1e-4));
    const Tensor hidden = read_npy(g + "_hidden_states.npy");  // inputs, layer 0, final norm
    const int64_t L = hidden.dim(1), H = hidden.dim(2);
    ASSERT_EQ(f.trace.size(), 3u);
    for (int64_t k = 0; k < 3; ++k)
        EXPECT_TRUE(dtest::all_close(f.trace[size_t(k)], hidden.reshape({3 * L, H}).slice_rows(k * L, (k + 1) * L), 1e-3,
                                     1e-4))
            << "hidden state " << k;
    const Tensor top_ids = read_npy(g + "_top8_ids.npy"), top = read_npy(g + "_top8_logits.npy");
    Tensor ours = Tensor::f32({top.dim(0), 8});
    for (int64_t r = 0; r < top.dim(0); ++r)
        for (int64_t k = 0; k < 8; ++k) ours.row(r)[k] = f.logits.row(r)[top_ids.data<int64_t>()[r * 8 + k]];
    EXPECT_TRUE(dtest::all_close(ours, top, 2e-3, 1e-4));
    const Tensor last = read_npy(g + "_logits_last_row.npy");
    EXPECT_TRUE(dtest::all_close(f.logits.slice_rows(L - 1, L).reshape({last.numel()}), last, 2e-3, 1e-4));
}

}  // namespace

TEST(LladaV, ConfigAndFamily) {
    const ModelConfig& c = engine().config();
    EXPECT_EQ(c.arch, Architecture::LladaV);
    ASSERT_TRUE(c.llava.has_value());
    EXPECT_EQ(c.ids.image, -200);
    EXPECT_TRUE(engine().has_vision());
    const Family& f = engine().family();
    EXPECT_EQ(f.decoding.pipeline, Pipeline::Llada);
    EXPECT_EQ(f.decoding.stop_ids, std::vector<int64_t>{126348});
    EXPECT_EQ(f.decoding.banned_ids, (std::vector<int64_t>{126081, 126080, 126346, 126347}));
}

TEST(LladaV, TextPromptForwardMatchesTheOriginal) { check_forward("text", false, 1e-6); }

TEST(LladaV, ImagePromptForwardMatchesTheOriginal) { check_forward("image", true, 1e-4); }

TEST(LladaV, EveryUsableGenerationRunMatchesTokenForToken) {
    const json gen = dtest::read_python_json(goldens() + "/generation.json");
    int usable = 0, ran = 0, matched = 0;
    for (const json& run : gen["runs"]) {
        if (!run["usable"].get<bool>()) continue;
        ++usable;
        if (!dtest::llada_v::supported(run)) continue;
        ++ran;
        const std::string name = run["name"].get<std::string>();
        SCOPED_TRACE(name);
        const std::string diff = dtest::llada_v::replay(run, dtest::llada_v::run_options(run));
        EXPECT_EQ(diff, "");
        matched += diff.empty();
    }
    EXPECT_EQ(usable, 25);
    EXPECT_EQ(ran, 22);  // the three runs with a generation_suffix are not an option of the engine
    EXPECT_EQ(matched, ran);
}

// Prefilling (`--cache`: the prompt's keys and values from the first pass, then only the answer rows
// fed) is an approximation for LLaDA, whose prompt rows attend to the answer. Measured here against
// exact decoding over the goldens' deterministic runs (low-confidence remasking, no guidance). The
// tiny random model's decisions are near-ties, so the figures say nothing about a trained model
// (BENCHMARKS.md); the test checks that every prefilled answer is complete.
TEST(LladaV, PrefillingAgreementWithExactDecodingIsMeasured) {
    const json gen = dtest::read_python_json(goldens() + "/generation.json");
    std::map<std::string, std::array<int64_t, 4>> by_prompt;  // same answers, runs, same tokens, tokens
    for (const json& run : gen["runs"]) {
        if (!run["usable"].get<bool>() || !dtest::llada_v::supported(run)) continue;
        GenerateOptions opt = dtest::llada_v::run_options(run);
        if (opt.remasking != Remasking::LowConfidence || opt.cfg_scale > 0) continue;
        const Prompt prompt = dtest::llada_v::prompt_of(run);
        const GenerateResult exact = generate(engine().language_model(), prompt, opt);
        opt.use_cache = true;
        const GenerateResult prefilled = generate(engine().language_model(), prompt, opt);
        const std::vector<int64_t> a(exact.sequence.begin() + int64_t(prompt.ids.size()), exact.sequence.end()),
            b(prefilled.sequence.begin() + int64_t(prompt.ids.size()), prefilled.sequence.end());
        ASSERT_EQ(a.size(), b.size()) << run["name"];
        EXPECT_EQ(std::count(b.begin(), b.end(), engine().config().ids.mask), 0) << run["name"];
        std::array<int64_t, 4>& s = by_prompt[run["image"].is_null() ? "text" : "image"];
        s[0] += a == b;
        s[1] += 1;
        for (size_t i = 0; i < a.size(); ++i) s[2] += a[i] == b[i];
        s[3] += int64_t(a.size());
    }
    ASSERT_FALSE(by_prompt.empty());
    std::cout << "prompt | prefilled answer = exact answer | same token at the same offset\n";
    for (const auto& [kind, s] : by_prompt)
        std::cout << kind << " | " << s[0] << " of " << s[1] << " | " << s[2] << " of " << s[3] << "\n";
}
