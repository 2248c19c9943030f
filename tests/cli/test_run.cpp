#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "golden_runs.h"
#include "io/npy.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

std::string golden_model() { return dtest::golden_dir() + "/model"; }

// A golden prompt's ids as "1,2,3"; `one_placeholder`: each run of image-pad tokens (2006) as one.
std::string prompt_ids(const std::string& name, bool one_placeholder = false) {
    const Tensor t = read_npy(dtest::golden_dir() + "/" + name + "_input_ids.npy");
    std::string s;
    for (int64_t i = 0; i < t.numel(); ++i) {
        const int64_t id = t.data<int64_t>()[i];
        if (one_placeholder && id == 2006 && i > 0 && t.data<int64_t>()[i - 1] == 2006) continue;
        if (i) s += ',';
        s += std::to_string(id);
    }
    return s;
}

std::string text_prompt_ids() { return prompt_ids("text"); }

}  // namespace

TEST(RunCommand, JsonReproducesAGoldenRun) {
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

TEST(RunCommand, PixelValuesReproduceAGoldenImageRun) {
    const json gen = dtest::load_generation_runs(dtest::golden_dir());
    // Run 81: the image prompt, dim, maskgit_plus, threshold 0.2, prefilling, 16 steps, temperature 0.
    const json& run = gen["runs"][81];
    ASSERT_EQ(run["prompt"], "image");
    ASSERT_EQ(run["spec"]["alg"], "maskgit_plus");
    ASSERT_EQ(run["spec"]["alg_p_threshold"], 0.2);
    ASSERT_TRUE(run["spec"]["use_cache"].get<bool>());
    ASSERT_TRUE(run["usable"].get<bool>());
    // The ids as the processor expanded them (24 image tokens), or with one placeholder.
    for (bool one : {false, true}) {
        const auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids " + prompt_ids("image", one) +
                                      " --pixel-values " + dtest::golden_dir() + "/image_pixel_values.npy --grid 1,8,12"
                                      " -n 16 -s 16 --alg maskgit_plus --threshold 0.2 --cache --temperature 0"
                                      " --top-p 1 --top-k 50 --compute f32 --json");
        ASSERT_EQ(r.exit_code, 0) << r.out;
        const json out = json::parse(r.out);
        EXPECT_EQ(out["prompt_tokens"], run["prompt_len"]);
        EXPECT_EQ(out["history"], run["history_answer"]) << "one placeholder: " << one;
        EXPECT_EQ(out["steps"], run["n_steps_run"]);
    }
}

TEST(RunCommand, PixelValuesAreCheckedAsForForward) {
    const std::string g = dtest::golden_dir();
    const std::string pv = " --pixel-values " + g + "/image_pixel_values.npy";
    struct Case {
        std::string args, message;
    };
    for (const std::string& command : {"run --prompt-ids " + prompt_ids("image"), "forward --ids " + g +
                                      "/image_input_ids.npy --out " + dtest::temp_dir() + "/logits.npy"}) {
        for (const Case& c : std::vector<Case>{
                 {pv + " --grid 1,8", "must be t,h,w"},
                 {pv + " --grid 1,7,12", "must be t,h,w"},
                 {pv, "needs --grid"},
                 {" --grid 1,8,12", "--grid describes the images of --pixel-values"},
                 {pv + " --grid 1,8,14", "expected f32 rows [112"},
                 {" --pixel-values " + g + "/image_input_ids.npy --grid 1,8,12", "expected f32 rows"},
                 {pv + " --grid 1,8,12 --image " + dtest::images_dir() + "/1_resize.jpg", "not both"},
             }) {
            const auto r = dtest::run_cli(command.substr(0, command.find(' ')) + " --model " + golden_model() +
                                          command.substr(command.find(' ')) + c.args + " --compute f32");
            EXPECT_EQ(r.exit_code, 2) << command << c.args << "\n" << r.out;
            EXPECT_NE(r.out.find(c.message), std::string::npos) << command << c.args << "\n" << r.out;
        }
    }
    // An expanded run must be as long as the image's merged patches (8*12/4 = 24).
    std::string ids = prompt_ids("image");
    ids.replace(ids.find("2006,"), 5, "");
    const auto r = dtest::run_cli("run --model " + golden_model() + " --prompt-ids " + ids + pv + " --grid 1,8,12");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("a run of 23 image tokens"), std::string::npos) << r.out;
}

TEST(RunCommand, FixIdsArePriors) {
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
