// The C API on a LLaDA model (tests/goldens/llada-tiny): its own decoding call when nothing is set,
// and LLaDA's options (remasking, cfg_scale) reaching the sampler: classifier-free guidance answers
// as the ORIGINAL generate() does.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "c_api_fixture.h"
#include "golden_runs.h"
#include "testing.h"

using namespace capi;
using nlohmann::json;

namespace {

std::string llada_dir() { return dtest::source_dir() + "/tests/goldens/llada-tiny"; }

dimple_model* llada_model() {
    static dimple_model* model = load_f32(llada_dir() + "/model");
    return model;
}

json golden_run(const std::string& name) {
    const json gen = dtest::read_python_json(llada_dir() + "/generation.json");
    for (const json& r : gen["runs"])
        if (r["name"] == name) return r;
    ADD_FAILURE() << "no golden run " << name;
    return {};
}

Answer ask_ids(const std::vector<dimple_token>& ids, const dimple_decoding_options& o) {
    dimple_request* r = nullptr;
    Answer a;
    a.status = dimple_request_create_from_ids(llada_model(), ids.data(), ids.size(), nullptr, 0, &o, &r);
    if (a.status == DIMPLE_OK) a.status = dimple_request_run(r, nullptr, nullptr);
    if (a.status == DIMPLE_OK) a = result_of(r);
    else a.error = dimple_last_error();
    dimple_request_free(r);
    return a;
}

// The golden run's layout; remasking and cfg_scale left to the caller.
dimple_decoding_options layout_of(const json& run) {
    dimple_decoding_options o;
    dimple_decoding_options_init(&o);
    o.steps = run["options"]["steps"].get<int32_t>();
    o.max_new_tokens = run["options"]["gen_length"].get<int32_t>();
    o.block_length = run["options"]["block_length"].get<int32_t>();
    return o;
}

}  // namespace

TEST(CApiLlada, ClassifierFreeGuidanceAnswersAsTheOriginal) {
    for (const char* name : {"cfg2.0_lc_p1_g16_b8_s8", "cfg0.5_lc_p1_g24_b8_s6"}) {
        SCOPED_TRACE(name);
        const json run = golden_run(name);
        dimple_decoding_options o = layout_of(run);
        o.cfg_scale = run["options"]["cfg_scale"].get<float>();
        o.remasking = "low_confidence";
        const Answer a = ask_ids(run["prompt_ids"][0].get<std::vector<dimple_token>>(), o);
        ASSERT_EQ(a.status, DIMPLE_OK) << a.error;
        EXPECT_EQ(std::vector<int64_t>(a.ids.begin(), a.ids.end()), run["answer"][0].get<std::vector<int64_t>>());
        // Without guidance the answer differs: the field reached the sampler.
        o.cfg_scale = 0;
        EXPECT_NE(ask_ids(run["prompt_ids"][0].get<std::vector<dimple_token>>(), o).ids, a.ids);
    }
}

TEST(CApiLlada, RemaskingIsChosenByNameAndBadValuesAreRefused) {
    const json run = golden_run("lc_p1_g16_b16_s16");
    const std::vector<dimple_token> ids = run["prompt_ids"][0].get<std::vector<dimple_token>>();
    dimple_decoding_options o = layout_of(run);
    const Answer unset = ask_ids(ids, o);  // the model's own: low_confidence, greedy
    ASSERT_EQ(unset.status, DIMPLE_OK) << unset.error;
    EXPECT_EQ(std::vector<int64_t>(unset.ids.begin(), unset.ids.end()), run["answer"][0].get<std::vector<int64_t>>());
    o.remasking = "random";
    o.seed = 7;
    const Answer random = ask_ids(ids, o), again = ask_ids(ids, o);
    ASSERT_EQ(random.status, DIMPLE_OK) << random.error;
    EXPECT_EQ(random.ids, again.ids);  // seeded
    EXPECT_EQ(random.steps, 16);
    o.remasking = "sideways";
    const Answer bad = ask_ids(ids, o);
    EXPECT_EQ(bad.status, DIMPLE_ERROR_REFUSED);
    EXPECT_NE(bad.error.find("sideways"), std::string::npos) << bad.error;
    o.remasking = nullptr;
    o.cfg_scale = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(ask_ids(ids, o).status, DIMPLE_ERROR_REFUSED);
}
