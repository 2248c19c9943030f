// LLaDA-V's dLLM-Cache (model/dllm_cache.h) against the ORIGINAL hook's outputs
// (tests/goldens/llada-v-tiny/cache_generation.json, tools/llada/make_llada_v_cache_goldens.py):
// every usable cached run token for token, step by step, with the answer rows each forward and
// layer recomputed by similarity (the original's refresh_index) row for row; refreshing every
// forward is exact decoding; options the cache cannot run are refused with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <iostream>
#include <map>

#include "core/error.h"
#include "decode/batch_forward.h"
#include "engine/decoding_options.h"
#include "engine/llada_v_runs.h"
#include "golden_runs.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;
using dtest::llada_v::engine;
using dtest::llada_v::goldens;

namespace {

DllmCacheSettings settings_of(const json& run) {
    const json& c = run["dllm_cache"];
    return {c["prompt_interval"].get<int>(), c["gen_interval"].get<int>(), c["transfer_ratio"].get<double>()};
}

// The original's transfer rows by (forward from 1, layer); absent: none chosen.
std::map<std::pair<int, size_t>, std::vector<int64_t>> transfers_of(const json& run) {
    std::map<std::pair<int, size_t>, std::vector<int64_t>> out;
    for (const json& t : run["transfers"])
        out[{t["forward"].get<int>(), t["layer"].get<size_t>()}] = t["rows"].get<std::vector<int64_t>>();
    return out;
}

// The message of the Error `f` throws ("" if none).
template <typename F>
std::string error_of(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(LladaVCache, EveryUsableCachedRunMatchesTheOriginal) {
    const json gen = dtest::read_python_json(goldens() + "/cache_generation.json");
    int usable = 0, matched = 0, with_transfers = 0;
    std::map<std::string, int> cases;  // the hook's cases the usable runs went through
    for (const json& run : gen["runs"]) {
        if (!run["usable"].get<bool>() || !dtest::llada_v::supported(run)) continue;
        ++usable;
        SCOPED_TRACE(run["name"].get<std::string>());
        GenerateOptions opt = dtest::llada_v::run_options(run);
        opt.accel.dllm_cache = settings_of(run);
        const auto golden = transfers_of(run);
        int forwards = 0, wrong_rows = 0;
        const std::string diff = dtest::llada_v::replay(run, opt, [&](const DecodeState& s, size_t) {
            const DllmCache& c = *s.dllm_cache();
            forwards = c.forwards;
            for (size_t l = 0; l < c.transfers.size(); ++l) {
                const auto it = golden.find({c.forwards, l});
                const std::vector<int64_t> want = it == golden.end() ? std::vector<int64_t>{} : it->second;
                wrong_rows += c.transfers[l] != want;
                EXPECT_EQ(c.transfers[l], want) << "forward " << c.forwards << ", layer " << l;
            }
        });
        EXPECT_EQ(diff, "");
        EXPECT_EQ(forwards, run["n_forward"].get<int>());
        matched += diff.empty() && wrong_rows == 0 && forwards == run["n_forward"].get<int>();
        with_transfers += !golden.empty();
        for (const json& c : run["cases"]) ++cases[c.get<std::string>()];
    }
    EXPECT_EQ(usable, 19);
    EXPECT_EQ(matched, usable);
    EXPECT_EQ(with_transfers, 13);
    for (const char* c : {"both", "gen", "prompt", "neither"}) EXPECT_GT(cases[c], 0) << c;
}

// Both parts refreshed at every forward: every row is recomputed, which is exact decoding.
TEST(LladaVCache, RefreshingEveryForwardIsExactDecoding) {
    const json gen = dtest::read_python_json(goldens() + "/generation.json");
    int ran = 0;
    for (const json& run : gen["runs"]) {
        const std::string name = run["name"].get<std::string>();
        if (!run["usable"].get<bool>() || name.rfind("lc_", 0) != 0) continue;
        SCOPED_TRACE(name);
        GenerateOptions opt = dtest::llada_v::run_options(run);
        opt.accel.dllm_cache = {1, 1, 0.5};
        EXPECT_EQ(dtest::llada_v::replay(run, opt), "");
        ++ran;
    }
    EXPECT_GE(ran, 6);
}

TEST(LladaVCache, ParsesTheDemoSetting) {
    const DllmCacheSettings s = parse_dllm_cache("25,7,0.25");
    EXPECT_EQ(s.prompt_interval, 25);
    EXPECT_EQ(s.gen_interval, 7);
    EXPECT_EQ(s.transfer_ratio, 0.25);
    EXPECT_EQ(dllm_cache_text(s), "25,7,0.25");
    EXPECT_EQ(dllm_cache_text({}), "off");
    EXPECT_EQ(parse_dllm_cache("1,1,0").transfer_ratio, 0.0);
}

TEST(LladaVCache, RefusesBadSettings) {
    for (const char* bad : {"", "25", "25,7", "25,7,0.25,1", "25,7,0.25,", ",25,7", "a,7,0.25", "25,7,x", " 25,7,0.25",
                            "25,7,0.25 ", "25.5,7,0.25", "0,7,0.25", "25,0,0.25", "-1,7,0.25", "25,7,1.5",
                            "25,7,-0.1", "25,7,nan", "99999999999,7,0.25"}) {
        SCOPED_TRACE(bad);
        std::string e = error_of([&] { parse_dllm_cache(bad); });
        std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        EXPECT_NE(e.find("dllm-cache"), std::string::npos) << e;
    }
    EXPECT_NE(error_of([] { validate_dllm_cache({0, 7, 0.25}); }).find("intervals"), std::string::npos);
}

TEST(LladaVCache, RefusesOptionsItCannotRun) {
    const ModelConfig& cfg = engine().config();
    auto refused = [&](const std::function<void(GenerateOptions&)>& edit, const std::string& says) {
        GenerateOptions o = engine().family().decoding;
        o.accel.dllm_cache = {25, 7, 0.25};
        EXPECT_EQ(error_of([&] { validate_generate_options(o, cfg, 16); }), "");
        edit(o);
        const std::string e = error_of([&] { validate_generate_options(o, cfg, 16); });
        EXPECT_NE(e.find(says), std::string::npos) << e;
    };
    refused([](GenerateOptions& o) { o.use_cache = true; }, "--no-cache");
    refused([](GenerateOptions& o) { o.pipeline = Pipeline::Dim; o.banned_ids.clear(); o.stop_ids.clear(); },
            "dLLM-Cache belongs to the llada pipeline");
    refused([](GenerateOptions& o) { o.cfg_scale = 1.f; }, "guidance");
    refused([](GenerateOptions& o) { o.accel.skip_layers = {0}; }, "dLLM-Cache does not combine");
    refused([](GenerateOptions& o) { o.accel.early_stop = EarlyStop::Rows; }, "dLLM-Cache does not combine");
    refused([](GenerateOptions& o) { o.accel.dllm_cache.transfer_ratio = 2; }, "transfer ratio");
    // Through the user-facing options: a bad text is an Error naming the flag.
    DecodingOptions d;
    d.dllm_cache = "25,7";
    EXPECT_NE(error_of([&] { generate_options(d, engine()); }).find("--dllm-cache"), std::string::npos);
    d.dllm_cache = "25,7,0.25";
    EXPECT_EQ(generate_options(d, engine()).accel.dllm_cache.gen_interval, 7);
}

// What the cache saves on the tiny random model, and how often its final answer is exact
// decoding's, over every run of the goldens (BENCHMARKS.md quotes the output). Speed is not
// measured: the tiny model's cost is the vocabulary head, not the layers.
TEST(LladaVCache, MeasuresRowsRecomputedAndAgreementWithExactDecoding) {
    const json gen = dtest::read_python_json(goldens() + "/cache_generation.json");
    // rows cached, rows exact, same answers, runs, same tokens, tokens
    std::map<std::string, std::array<int64_t, 6>> by_setting;
    for (const json& run : gen["runs"]) {
        if (!dtest::llada_v::supported(run)) continue;
        GenerateOptions opt = dtest::llada_v::run_options(run);
        const Prompt prompt = dtest::llada_v::prompt_of(run);
        std::vector<int64_t> answers[2];
        int64_t rows[2] = {0, 0};
        for (int cached = 0; cached < 2; ++cached) {
            if (cached) opt.accel.dllm_cache = settings_of(run);
            DecodeState state(engine().language_model(), prompt, opt);
            DecodeState* const one = &state;
            int forwards = 0;
            while (!state.finished()) {
                if (const std::exception_ptr e = step_together(engine().language_model(), {&one, 1}).front())
                    std::rethrow_exception(e);
                ++forwards;
            }
            answers[cached] = state.answer();
            rows[cached] = cached ? state.dllm_cache()->rows_run
                                  : int64_t(forwards) * engine().config().num_layers *
                                        int64_t(prompt.ids.size() + size_t(opt.max_new_tokens));
        }
        std::array<int64_t, 6>& s =
            by_setting[dllm_cache_text(settings_of(run)) + (run["image"].is_null() ? " text" : " image")];
        s[0] += rows[1];
        s[1] += rows[0];
        s[2] += answers[0] == answers[1];
        s[3] += 1;
        for (size_t i = 0; i < answers[0].size(); ++i) s[4] += answers[0][i] == answers[1][i];
        s[5] += int64_t(answers[0].size());
        if (settings_of(run).prompt_interval > 1) {
            EXPECT_LT(rows[1], rows[0]) << run["name"];
        }
    }
    std::cout << "setting (P,G,R) prompt | rows recomputed with / without the cache | same answer as exact decoding "
                 "| same token at the same offset\n";
    for (const auto& [name, s] : by_setting)
        std::cout << name << " | " << s[0] << " / " << s[1] << " (" << 100.0 * double(s[0]) / double(s[1])
                  << "%) | " << s[2] << " of " << s[3] << " | " << s[4] << " of " << s[5] << "\n";
}
