// LLaDA's sampler (--pipeline llada) against the ORIGINAL generate() of ML-GSAI/LLaDA on the tiny
// random model of tests/goldens/llada-tiny: every usable run (decision margins >= 1e-5, reproduced in
// float64) token for token, history included: low-confidence and random remasking (the original's
// uniforms replayed), block layouts, idle steps, classifier-free guidance, infilling, batches (rows
// are independent: the original ignores the padding mask, so a padded row is its padded ids alone).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "decode/batch_forward.h"
#include "decode/decode_state.h"
#include "golden_runs.h"
#include "io/config.h"
#include "io/npy.h"
#include "model/prompt.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

std::string llada_dir() { return dtest::source_dir() + "/tests/goldens/llada-tiny"; }

GenerateOptions options_of(const json& o) {
    GenerateOptions g;
    g.pipeline = Pipeline::Llada;
    g.steps = o["steps"].get<int>();
    g.max_new_tokens = o["gen_length"].get<int>();
    g.accel.block_length = o["block_length"].get<int>();
    g.sampling = SamplingOptions{0.f, std::nullopt, std::nullopt};
    g.threshold = std::nullopt;
    g.use_cache = false;
    g.remasking = parse_remasking(o["remasking"].get<std::string>());
    g.cfg_scale = o["cfg_scale"].get<float>();
    return g;
}

// Runs one batch row; the answer after each step that committed something.
std::vector<std::vector<int64_t>> run_row(const LanguageModel& lm, const json& run, size_t b, const Tensor* uniforms) {
    const std::vector<int64_t> ids = run["prompt_ids"][b].get<std::vector<int64_t>>();
    DecodeState state(lm, make_prompt(lm, ids), options_of(run["options"]));
    if (uniforms) {
        const int64_t B = uniforms->dim(1), L = uniforms->dim(2);
        state.replay_uniforms([=](int64_t step, int64_t position) {
            return uniforms->data<float>()[(step * B + int64_t(b)) * L + position];
        });
    }
    DecodeState* const one = &state;
    std::vector<std::vector<int64_t>> history;
    while (!state.finished()) {
        if (const std::exception_ptr e = step_together(lm, {&one, 1}).front()) std::rethrow_exception(e);
        history.push_back(state.answer());
    }
    return history;
}

// The distinct answers in order: the original also runs steps that commit nothing (a count of 0),
// which the engine passes over without a forward.
std::vector<std::vector<int64_t>> distinct(std::vector<std::vector<int64_t>> h) {
    h.erase(std::unique(h.begin(), h.end()), h.end());
    return h;
}

}  // namespace

TEST(LladaGeneration, EveryUsableRunMatchesTheOriginalTokenForToken) {
    const json gen = dtest::read_python_json(llada_dir() + "/generation.json");
    const Checkpoint ck(llada_dir() + "/model");
    const LanguageModel lm(ck, load_model_config(llada_dir() + "/model"), Compute::F32);
    int usable = 0, matched = 0;
    for (const json& run : gen["runs"]) {
        if (!run["usable"].get<bool>()) continue;
        const std::string name = run["name"].get<std::string>();
        SCOPED_TRACE(name);
        ++usable;
        const bool random = run["options"]["remasking"] == "random";
        const Tensor uniforms = random ? read_npy(llada_dir() + "/gen_" + name + "_uniforms.npy") : Tensor();
        bool all = true;
        for (size_t b = 0; b < run["prompt_ids"].size(); ++b) {
            const std::vector<std::vector<int64_t>> ours = run_row(lm, run, b, random ? &uniforms : nullptr);
            ASSERT_FALSE(ours.empty());
            const std::vector<int64_t> expected = run["answer"][b].get<std::vector<int64_t>>();
            std::vector<std::vector<int64_t>> golden;
            for (const json& step : run["history_answer"]) golden.push_back(step[b].get<std::vector<int64_t>>());
            EXPECT_EQ(ours.back(), expected) << "row " << b;
            EXPECT_EQ(distinct(ours), distinct(golden)) << "row " << b << ": the answers step by step";
            all = all && ours.back() == expected && distinct(ours) == distinct(golden);
        }
        matched += all;
    }
    EXPECT_EQ(usable, 52);
    EXPECT_EQ(matched, usable);
}

// Fast-dLLM's LLaDA decoding (tests/goldens/llada-tiny/fast_dllm.json, written by
// tools/llada/make_fast_dllm_goldens.py from NVlabs/Fast-dLLM's generate.py): its dual cache
// (--cache --dual-cache: each block refreshes every row's keys/values, then feeds only the block)
// and its threshold commits, with and without the dual cache, token for token.
TEST(LladaGeneration, FastDllmDualCacheAndThresholdMatchTheOriginal) {
    const json gold = dtest::read_python_json(llada_dir() + "/fast_dllm.json");
    const Checkpoint ck(llada_dir() + "/model");
    const LanguageModel lm(ck, load_model_config(llada_dir() + "/model"), Compute::F32);
    int usable = 0, matched = 0;
    for (const json& run : gold["runs"]) {
        if (!run["usable"].get<bool>()) continue;
        SCOPED_TRACE(run["name"].get<std::string>());
        ++usable;
        const json& o = run["options"];
        GenerateOptions g = options_of({{"steps", o["steps"]}, {"gen_length", o["gen_length"]},
                                        {"block_length", o["block_length"]}, {"remasking", "low_confidence"},
                                        {"cfg_scale", 0.0}});
        if (!o["threshold"].is_null()) g.threshold = o["threshold"].get<float>();
        const bool dual = run["function"] == "generate_with_dual_cache";
        g.use_cache = g.accel.dual_cache = dual;
        const std::vector<int64_t> ids = run["prompt_ids"].get<std::vector<int64_t>>();
        const GenerateResult r = generate(lm, make_prompt(lm, ids), g);
        const std::vector<int64_t> answer(r.sequence.begin() + int64_t(ids.size()), r.sequence.end());
        EXPECT_EQ(answer, run["answer"].get<std::vector<int64_t>>());
        matched += answer == run["answer"].get<std::vector<int64_t>>();
    }
    EXPECT_EQ(usable, 23);
    EXPECT_EQ(matched, usable);
}

TEST(LladaSchedule, SplitsEachBlocksMasksAsTheOriginal) {
    const std::vector<int64_t> five = llada_transfer_counts(5, 3), two = llada_transfer_counts(2, 4);
    ASSERT_EQ(five.size(), 3u);
    EXPECT_EQ(five[0], 2);
    EXPECT_EQ(five[1], 2);
    EXPECT_EQ(five[2], 1);
    ASSERT_EQ(two.size(), 4u);
    EXPECT_EQ(two[0] + two[1], 2);  // the remainder goes to the first steps
    EXPECT_EQ(two[2] + two[3], 0);
    LladaSchedule s(32, 8, 8);  // 4 blocks of 2 steps
    EXPECT_EQ(s.blocks(), 4);
    s.begin_block(8);
    EXPECT_EQ(s.count(), 4);
    s.advance();
    s.advance();
    EXPECT_EQ(s.block(), 1);
    EXPECT_EQ(s.first(), 8);
    EXPECT_EQ(s.last(), 16);
}

// Where the original asserts (blocks not dividing the answer or the steps), the last block is
// shorter and each block gets floor(steps / blocks) steps: every mask is still decided.
TEST(LladaSchedule, LayoutsTheOriginalRefusesStillDecideEveryMask) {
    LladaSchedule s(20, 8, 7);  // blocks of 8, 8, 4; 2 steps each
    EXPECT_EQ(s.blocks(), 3);
    s.advance();
    s.advance();
    s.advance();
    s.advance();
    EXPECT_EQ(s.first(), 16);
    EXPECT_EQ(s.last(), 20);
    const Checkpoint ck(llada_dir() + "/model");
    const LanguageModel lm(ck, load_model_config(llada_dir() + "/model"), Compute::F32);
    GenerateOptions o = options_of(json{{"steps", 7}, {"gen_length", 20}, {"block_length", 8},
                                        {"remasking", "low_confidence"}, {"cfg_scale", 0.0}});
    const GenerateResult r = generate(lm, make_prompt(lm, std::vector<int64_t>{1664, 1930, 101, 1931, 102}), o);
    EXPECT_EQ(std::count(r.sequence.begin() + 5, r.sequence.end(), 1920), 0);
    EXPECT_EQ(r.steps_run, 6);
}
