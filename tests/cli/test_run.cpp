#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

std::string golden_model() { return dtest::golden_dir() + "/model"; }

std::string text_prompt_ids() {
    const Tensor t = read_npy(dtest::golden_dir() + "/text_input_ids.npy");
    std::string s;
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (i) s += ',';
        s += std::to_string(t.data<int64_t>()[i]);
    }
    return s;
}

}  // namespace

TEST(RunCommand, JsonReproducesAGoldenRun) {
    DIMPLE_REQUIRE_SHARED();
    const json gen = dtest::load_generation_runs(dtest::golden_dir());
    // Run 14: dim, maskgit_plus, threshold 0.2, prefilling, 16 steps, temperature 0, top_k 50.
    const json& run = gen["runs"][14];
    ASSERT_EQ(run["spec"]["alg"], "maskgit_plus");
    ASSERT_TRUE(run["usable"].get<bool>());
    const auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids " + text_prompt_ids() +
                                  " -n 16 -s 16 --alg maskgit_plus --threshold 0.2 --cache --temperature 0"
                                  " --top-p 1 --top-k 50 --compute f32 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json out = json::parse(r.out);
    EXPECT_EQ(out["history"], run["history_answer"]);
    EXPECT_EQ(out["steps"], run["n_steps_run"]);
    EXPECT_EQ(out["answer_ids"], run["history_answer"].back());
    EXPECT_TRUE(out["timing"].contains("tokens_per_s"));
    EXPECT_EQ(out["text"], "");  // no tokenizer in this folder
}

TEST(RunCommand, FixIdsArePriors) {
    DIMPLE_REQUIRE_SHARED();
    const auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids 5,6,7 -n 8 -s 8 --temperature 0"
                                  " --fix-ids 0:123,7:2002 --compute f32 --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json out = json::parse(r.out);
    for (const auto& h : out["history"]) {
        EXPECT_EQ(h[0], 123);
        EXPECT_EQ(h[7], 2002);
    }
}

TEST(RunCommand, BadInputExitsTwoWithAMessage) {
    DIMPLE_REQUIRE_SHARED();
    const std::string m = " --model " + golden_model() + " ";
    struct Case {
        std::string args, message;
    };
    for (const Case& c : std::vector<Case>{
             {"run" + m + "--prompt-ids 5,6 --image /nonexistent.png", "/nonexistent.png"},
             {"run" + m + "--prompt-ids 5,x", "not an integer"},
             {"run" + m + "--prompt-ids 5,99999", "outside the vocabulary"},
             {"run" + m + "--prompt hello", "no tokenizer"},
             {"run" + m + "--prompt-ids 5 --alg fastest", "unknown decoding algorithm"},
             {"run" + m + "--prompt-ids 5 --fix-ids 3", "OFFSET:ID"},
             {"run" + m + "--prompt-ids 5 -n 4 --fix-ids 9:1", "outside the 4 answer tokens"},
             {"run" + m + "--prompt-ids 5 --template '<mask:3'", "no tokenizer"},
             {"run" + m + "--prompt-ids 5 --steps 0", "steps must be"},
             {"run" + m + "--prompt-ids 5 -n 40000", "exceeds the model's 32768 positions"},
             {"run" + m + "--prompt-ids 5 --compute f64", "unknown compute mode"},
             {"run --model /nonexistent --prompt-ids 5", "not a model folder"},
             {"forward" + m + "--ids /nonexistent.npy --out /tmp/x.npy", "cannot open"},
         }) {
        const auto r = dtest::run_cli(c.args);
        EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
        EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    }
}

TEST(ForwardCommand, WritesTheGoldenLogits) {
    DIMPLE_REQUIRE_SHARED();
    const std::string g = dtest::golden_dir(), out = dtest::temp_dir() + "/logits.npy";
    auto r = dtest::run_cli("forward --model " + golden_model() + " --ids " + g + "/batch_input_ids.npy --attention-mask " +
                            g + "/batch_attention_mask.npy --out " + out + " --compute f32");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_TRUE(dtest::all_close(read_npy(out), read_npy(g + "/batch_logits.npy"), 1e-3, 1e-4));
    r = dtest::run_cli("forward --model " + golden_model() + " --ids " + g + "/two_input_ids.npy --pixel-values " + g +
                       "/two_pixel_values.npy --grid 1,8,12 --grid 1,10,14 --out " + out + " --compute f32");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_TRUE(dtest::all_close(read_npy(out), read_npy(g + "/two_logits.npy"), 1e-3, 1e-4));
}
