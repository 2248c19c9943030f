// The faster-decoding options (decode/acceleration.h): their parsing and rules, early stop's
// exactness on every deterministic golden run, and what blocks, the dual cache, layer skipping and
// visual-token pruning change (and do not change) in a decoding on the shared tiny-a model.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "decode/blocks.h"
#include "decode/decode_state.h"
#include "core/error.h"
#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;

namespace {

// The text-bearing tokens of an answer: up to its first eos, masks and pads left out.
std::vector<int64_t> text_tokens(const std::vector<int64_t>& answer, const SpecialIds& ids) {
    std::vector<int64_t> out;
    for (int64_t id : answer) {
        if (id == ids.eos) break;
        if (id != ids.mask && id != ids.pad) out.push_back(id);
    }
    return out;
}

struct Golden {
    std::string dir;
    Checkpoint ckpt;
    ModelConfig cfg;
    LanguageModel lm;
    explicit Golden(const std::string& d)
        : dir(d), ckpt(d + "/model"), cfg(load_model_config(d + "/model")), lm(ckpt, cfg, Compute::F32) {}

    Prompt prompt(const std::string& prefix) const { return dtest::golden_prompt(lm, dir, prefix); }
};

// Greedy, 16 answer tokens, prefilling: the image prompt of tiny-a.
GenerateOptions greedy(int steps = 16) {
    GenerateOptions o;
    o.max_new_tokens = 16;
    o.steps = steps;
    o.sampling.temperature = 0.f;
    o.threshold = std::nullopt;
    o.alg = Algorithm::MaskgitPlus;
    return o;
}

}  // namespace

TEST(Acceleration, ParsesLayerLists) {
    EXPECT_EQ(parse_layer_list("3"), (std::vector<int>{3}));
    EXPECT_EQ(parse_layer_list("20,22,24"), (std::vector<int>{20, 22, 24}));
    EXPECT_EQ(parse_layer_list("14-17"), (std::vector<int>{14, 15, 16, 17}));
    EXPECT_EQ(parse_layer_list("15-27/4,1,15"), (std::vector<int>{1, 15, 19, 23, 27}));
    for (const char* bad : {"", "a", "3-", "-3", "5-2", "1,,2", "3/2", "1-4/0", "1.5", "9999999", "0-999999", "1024"})
        EXPECT_THROW(parse_layer_list(bad), Error) << bad;
    EXPECT_EQ(parse_layer_list("1023").back(), 1023);
    // Many wide ranges cost their text's length, not their sum (a server parses these lists).
    std::string many = "0-1023";
    while (many.size() < 100000) many += ",0-1023/1";
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(parse_layer_list(many).size(), 1024u);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
    EXPECT_EQ(parse_early_stop("rows"), EarlyStop::Rows);
    EXPECT_THROW(parse_early_stop("yes"), Error);
    EXPECT_EQ(parse_prune_when("late"), PruneWhen::Late);
    EXPECT_THROW(parse_prune_when("early"), Error);
}

TEST(Acceleration, ValidationNamesTheOption) {
    Acceleration a;
    EXPECT_NO_THROW(validate_acceleration(a, 4, false));
    a.dual_cache = true;
    EXPECT_THROW(validate_acceleration(a, 4, true), Error);  // no blocks
    a.block_length = 4;
    EXPECT_THROW(validate_acceleration(a, 4, false), Error);  // no prefilling
    EXPECT_NO_THROW(validate_acceleration(a, 4, true));
    a = {};
    a.skip_layers = {4};
    EXPECT_THROW(validate_acceleration(a, 4, true), Error);
    a.skip_layers = {3};
    EXPECT_NO_THROW(validate_acceleration(a, 4, true));
    EXPECT_THROW(validate_acceleration(a, 4, false), Error);
    a = {};
    a.prune_layer = 3, a.prune_keep = 0.5f;
    EXPECT_THROW(validate_acceleration(a, 4, true), Error);  // no layer after it
    a.prune_layer = 1, a.prune_keep = 0.f;
    EXPECT_THROW(validate_acceleration(a, 4, true), Error);
}

TEST(Acceleration, PruningSchedules) {
    Acceleration a;
    EXPECT_EQ(prune_keep_at(a, 0), 1.f);
    a.prune_layer = 1, a.prune_keep = 0.25f, a.prune_step = 3;
    EXPECT_EQ(prune_keep_at(a, 0), 0.25f);
    a.prune_when = PruneWhen::Late;
    EXPECT_EQ(prune_keep_at(a, 2), 1.f);
    EXPECT_EQ(prune_keep_at(a, 3), 0.25f);
    a.prune_when = PruneWhen::Progressive;
    float before = 1.f;
    for (int s = 0; s < 3; ++s) EXPECT_LT(prune_keep_at(a, s), before), before = prune_keep_at(a, s);
    EXPECT_FLOAT_EQ(prune_keep_at(a, 3), 0.25f);
    EXPECT_FLOAT_EQ(prune_keep_at(a, 9), 0.25f);
}

TEST(Acceleration, BlockRules) {
    EXPECT_EQ(block_of(5, 4, 10).index, 1);
    EXPECT_EQ(block_of(9, 4, 10).last, 10);
    EXPECT_EQ(steps_per_block(16, 4, 16), 4);
    EXPECT_EQ(steps_per_block(3, 4, 16), 1);
    const std::vector<TokenChoice> c{{1, 0.2f}, {2, 0.97f}, {3, 0.5f}, {4, 0.99f}};
    EXPECT_EQ(block_commits(c, 0.95f, 3), (std::vector<size_t>{1, 3}));
    EXPECT_EQ(block_commits(c, 0.995f, 3), (std::vector<size_t>{3}));  // at least the most confident
    EXPECT_EQ(block_commits(c, std::nullopt, 3), (std::vector<size_t>{1, 3}));  // ceil(4 / 3)
    EXPECT_EQ(block_commits(c, std::nullopt, 1), (std::vector<size_t>{0, 1, 2, 3}));
}

// Early stop (loop) ends decoding once the text is final: every usable golden run gives the
// same text in at most as many steps, with the same history up to where it stops.
TEST(Acceleration, EarlyStopLoopKeepsEveryGoldenText) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    const auto gen = dtest::load_generation_runs(dir);
    std::map<std::string, Prompt> prompts;
    int runs = 0, shorter = 0;
    for (const auto& run : gen["runs"]) {
        if (!run["usable"].get<bool>()) continue;  // the runs f32 reproduces token for token
        const std::string name = run["prompt"].get<std::string>();
        if (!prompts.count(name)) prompts.emplace(name, g.prompt(name));
        GenerateOptions o = dtest::golden_run_options(run, gen);
        o.accel.early_stop = EarlyStop::Loop;
        const GenerateResult r = generate(g.lm, prompts.at(name), o);
        const auto golden = run["history_answer"].get<std::vector<std::vector<int64_t>>>();
        EXPECT_EQ(text_tokens(r.history.back(), g.cfg.ids), text_tokens(golden.back(), g.cfg.ids))
            << name << " " << run["spec"].dump();
        EXPECT_LE(r.steps_run, run["n_steps_run"].get<int>());
        for (int i = 0; i < r.steps_run; ++i) EXPECT_EQ(r.history[size_t(i)], golden[size_t(i)]);
        ++runs;
        shorter += r.steps_run < run["n_steps_run"].get<int>();
    }
    std::printf("early stop (loop): %d usable runs, same text, %d of them in fewer steps\n", runs, shorter);
    EXPECT_EQ(runs, 199);
    EXPECT_GE(shorter, 5);  // 7 measured: the untrained model rarely commits eos before its last masks
}

// Blocks decode left to right: a step commits inside one block, never right of a mask-holding block.
TEST(Acceleration, BlocksCommitLeftToRight) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    GenerateOptions o = greedy();
    o.accel.block_length = 4;
    const GenerateResult r = generate(g.lm, g.prompt("image"), o);
    std::vector<int64_t> before(16, g.cfg.ids.mask);
    for (const auto& now : r.history) {
        int64_t block = -1;
        for (size_t j = 0; j < now.size(); ++j)
            if (before[j] == g.cfg.ids.mask && now[j] != g.cfg.ids.mask) {
                EXPECT_TRUE(block == -1 || block == int64_t(j / 4));
                block = int64_t(j / 4);
                for (size_t k = 0; k < j / 4 * 4; ++k) EXPECT_NE(before[k], g.cfg.ids.mask);
            }
        EXPECT_NE(block, -1);
        before = now;
    }
    EXPECT_EQ(std::count(before.begin(), before.end(), g.cfg.ids.mask), 0);
    EXPECT_EQ(r.steps_run, 16);  // 4 blocks of 4 steps, one token each
}

// The dual cache refreshed at every step is blocks without it, token for token; without refreshes
// it feeds only the block and the row before it.
TEST(Acceleration, DualCacheRefreshedEveryStepIsExact) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    const Prompt p = g.prompt("image");
    GenerateOptions o = greedy();
    o.accel.block_length = 4;
    const GenerateResult plain = generate(g.lm, p, o, {}, true);
    o.accel.dual_cache = true;
    o.accel.cache_refresh = 1;
    const GenerateResult every = generate(g.lm, p, o, {}, true);
    EXPECT_EQ(every.history, plain.history);
    o.accel.cache_refresh = 0;
    const GenerateResult dual = generate(g.lm, p, o, {}, true);
    EXPECT_EQ(dual.steps_run, 16);
    const int64_t answer_feed = 17;  // the last prompt token and 16 answer rows
    int short_feeds = 0;
    for (int i = 0; i < dual.steps_run; ++i) {
        const int64_t fed = dual.debug[size_t(i)].tokens_fed;
        const bool refresh = i == 0 || i % 4 == 0 || i == 1;  // the first pass, then each block's first step
        const int64_t want = i == 0 ? int64_t(p.ids.size()) + 16 : refresh ? answer_feed : 5;  // 4 block rows + 1
        EXPECT_EQ(fed, want) << "step " << i;
        short_feeds += want == 5;
    }
    EXPECT_EQ(short_feeds, 11);
    EXPECT_EQ(std::count(dual.history.back().begin(), dual.history.back().end(), g.cfg.ids.mask), 0);
}

// Early stop (rows) stops feeding the committed rows after the eos.
TEST(Acceleration, EarlyStopRowsFeedsLess) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    const Prompt p = g.prompt("image");
    GenerateOptions o = greedy(8);
    o.fixed = {{10, g.cfg.ids.eos}, {11, g.cfg.ids.pad}, {12, g.cfg.ids.pad}, {13, g.cfg.ids.pad},
               {14, g.cfg.ids.pad}, {15, g.cfg.ids.pad}};  // a length prior: eos at 10
    o.accel.early_stop = EarlyStop::Rows;
    const GenerateResult r = generate(g.lm, p, o, {}, true);
    for (int i = 1; i < r.steps_run; ++i) EXPECT_EQ(r.debug[size_t(i)].tokens_fed, 1 + 11) << i;
    EXPECT_EQ(std::count(r.history.back().begin(), r.history.back().begin() + 10, g.cfg.ids.mask), 0);
}

// Layer skipping and pruning change the answer rows' computation only after the first pass.
TEST(Acceleration, SkippingAndPruningStartWhereTheySay) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    const Prompt p = g.prompt("image");
    GenerateOptions o = greedy();
    const GenerateResult exact = generate(g.lm, p, o, {}, true);
    GenerateOptions skip = o;
    skip.accel.skip_layers = {1};
    skip.accel.skip_from_step = 2;
    const GenerateResult s = generate(g.lm, p, skip, {}, true);
    EXPECT_EQ(s.debug[0].p_top1, exact.debug[0].p_top1);
    EXPECT_EQ(s.debug[1].p_top1, exact.debug[1].p_top1);
    EXPECT_NE(s.debug[2].p_top1, exact.debug[2].p_top1);
    for (PruneWhen when : {PruneWhen::Prefill, PruneWhen::Late, PruneWhen::Progressive}) {
        GenerateOptions prune = o;
        prune.accel.prune_layer = 0;
        prune.accel.prune_keep = 0.25f;
        prune.accel.prune_when = when;
        prune.accel.prune_step = 3;
        const GenerateResult r = generate(g.lm, p, prune, {}, true);
        EXPECT_EQ(std::count(r.history.back().begin(), r.history.back().end(), g.cfg.ids.mask), 0);
        const size_t first_change = when == PruneWhen::Late ? 3 : 0;
        for (size_t i = 0; i < first_change; ++i) EXPECT_EQ(r.debug[i].p_top1, exact.debug[i].p_top1);
        EXPECT_NE(r.debug[first_change].p_top1, exact.debug[first_change].p_top1) << prune_when_name(when);
    }
}

TEST(Acceleration, ImageAttentionIsMeasuredPerStepAndLayerWithoutChangingTheAnswer) {
    DIMPLE_GOLDEN_SET_DIR(dir, "tiny-a");
    const Golden g(dir);
    const Prompt p = g.prompt("image");
    GenerateOptions o = greedy();
    o.measure_image_attention = true;
    o.accel.skip_layers = {1};
    o.accel.skip_from_step = 2;
    GenerateOptions plain = o;
    plain.measure_image_attention = false;
    const GenerateResult r = generate(g.lm, p, o);
    EXPECT_EQ(r.history, generate(g.lm, p, plain).history);  // measuring changes nothing
    ASSERT_EQ(r.image_attention.size(), size_t(r.steps_run));
    for (size_t step = 0; step < r.image_attention.size(); ++step) {
        ASSERT_EQ(r.image_attention[step].size(), size_t(g.cfg.num_layers));
        for (size_t layer = 0; layer < r.image_attention[step].size(); ++layer) {
            const float share = r.image_attention[step][layer];
            if (layer == 1 && step >= 2) {
                EXPECT_TRUE(std::isnan(share)) << "a skipped layer has no attention";
            } else {
                EXPECT_GT(share, 0.f) << step << " " << layer;
                EXPECT_LT(share, 1.f) << step << " " << layer;
            }
        }
    }
    // The first pass is the same with and without prefilling: so are its measures (the image keys
    // found among the call's own rows and among the cache agree).
    GenerateOptions no_cache = greedy();
    no_cache.use_cache = false;
    no_cache.measure_image_attention = true;
    const GenerateResult n = generate(g.lm, p, no_cache);
    for (size_t layer = 0; layer < n.image_attention[0].size(); ++layer)
        EXPECT_NEAR(n.image_attention[0][layer], r.image_attention[0][layer], 1e-5);
    GenerateOptions prune = o;
    prune.accel.prune_layer = 0;
    prune.accel.prune_keep = 0.5f;
    EXPECT_THROW(generate(g.lm, p, prune), Error);
}
