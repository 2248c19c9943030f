// `dimple run` and `dimple info` on the tiny LLaDA of tests/goldens/llada-tiny: the family's own
// decoding call when no option is given, and the original generate()'s answers with options.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "golden_runs.h"
#include "testing.h"

using nlohmann::json;

namespace {

std::string llada_model() { return dtest::source_dir() + "/tests/goldens/llada-tiny/model"; }

json golden_run(const std::string& name) {
    const json gen = dtest::read_python_json(dtest::source_dir() + "/tests/goldens/llada-tiny/generation.json");
    for (const json& r : gen["runs"])
        if (r["name"] == name) return r;
    ADD_FAILURE() << "no golden run " << name;
    return {};
}

json run_json(const std::string& args) {
    const dtest::CommandResult r = dtest::run_cli("run --model " + llada_model() + " --compute f32 --json " + args +
                                                  " 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return r.exit_code == 0 ? json::parse(r.out) : json();
}

}  // namespace

TEST(LladaCli, RunReproducesTheOriginalsAnswers) {
    for (const char* name : {"lc_p1_g16_b16_s16", "lc_p2_g24_b8_s6", "cfg0.5_lc_p1_g16_b8_s8"}) {
        SCOPED_TRACE(name);
        const json run = golden_run(name);
        const json& o = run["options"];
        const json out = run_json("--prompt-ids " + dtest::id_list(run["prompt_ids"][0]) + " -n " + o["gen_length"].dump() +
                                  " -s " + o["steps"].dump() + " --block-length " + o["block_length"].dump() +
                                  " --cfg-scale " + o["cfg_scale"].dump());
        EXPECT_EQ(out["answer_ids"], run["answer"][0]);
    }
}

// No decoding option: LLaDA's generate.py call (128 tokens, 128 steps, blocks of 32, greedy,
// low-confidence, no prefilling): 4 blocks of 32 steps, each committing one token.
TEST(LladaCli, RunWithoutOptionsUsesTheFamilysCall) {
    const json run = golden_run("lc_p1_g16_b16_s16");
    const json out = run_json("--prompt-ids " + dtest::id_list(run["prompt_ids"][0]));
    ASSERT_TRUE(out.contains("answer_ids"));
    EXPECT_EQ(out["answer_ids"].size(), 128u);
    EXPECT_EQ(out["steps"], 128);
    // The first block decides one token per step, left to right within the block's 32 positions.
    for (size_t s = 0; s < 32; ++s)
        for (size_t p = 32; p < 128; ++p) EXPECT_EQ(out["history"][s][p], 1920) << "step " << s << " offset " << p;
}

TEST(LladaCli, OptionsTheSamplerRefusesAreClearErrors) {
    const std::string ids = " --prompt-ids 1664,1930,101 ";
    auto refused = [&](const std::string& args, const std::string& message) {
        const dtest::CommandResult r = dtest::run_cli("run --model " + llada_model() + ids + args);
        EXPECT_EQ(r.exit_code, 2) << args;
        EXPECT_NE(r.out.find(message), std::string::npos) << args << ": " << r.out;
    };
    refused("--remasking lowest", "unknown remasking");
    refused("--cfg-scale 1 --cache", "without prefilling");
}

TEST(LladaCli, InfoDescribesTheFamily) {
    const dtest::CommandResult r = dtest::run_cli("info " + llada_model() + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["architecture"], "LLaDA");
    EXPECT_EQ(j["language_model"]["layers"], 2);
    EXPECT_EQ(j["decoding"]["pipeline"], "llada");
    EXPECT_EQ(j["decoding"]["block_length"], 32);
    EXPECT_EQ(j["parameters"]["total"], 368960);
}

// With a tokenizer (ours, LLaDA-style: tools/llada/make_llada_tokenizer.py): the prompt goes through
// LLaDA's chat template, and the text ends at <|eot_id|> or <|endoftext|>.
TEST(LladaCli, PromptsGoThroughLladasChatTemplate) {
    const std::string model = dtest::reference_goldens_dir() + "/llada-tiny-chat";
    const dtest::CommandResult ids = dtest::run_cli("tokenize --model " + model + " --chat --text 'Name a colour.'");
    ASSERT_EQ(ids.exit_code, 0) << ids.out;
    const std::vector<int64_t> chat = json::parse(ids.out).get<std::vector<int64_t>>();
    ASSERT_GE(chat.size(), 8u);
    EXPECT_EQ(std::vector<int64_t>(chat.begin(), chat.begin() + 2), (std::vector<int64_t>{1664, 1930}));  // bos, header
    EXPECT_EQ(std::count(chat.begin(), chat.end(), 1932), 1);  // one <|eot_id|>: the user turn's
    EXPECT_EQ(chat[chat.size() - 3], 1931);                    // ... <|end_header_id|> \n \n
    const dtest::CommandResult r =
        dtest::run_cli("run --model " + model + " --compute f32 --json --prompt 'Name a colour.' 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const json out = json::parse(r.out);
    EXPECT_EQ(out["prompt_tokens"], chat.size());
    const std::vector<int64_t> answer = out["answer_ids"].get<std::vector<int64_t>>();
    const auto end = std::find_if(answer.begin(), answer.end(), [](int64_t id) { return id == 1665 || id == 1932; });
    EXPECT_EQ(out["answer_tokens"], end - answer.begin());
}

// `dimple quantize` writes LLaDA's int8 folder (OLMo tensor names), which answers as the published
// folder does when that is quantized on loading.
TEST(LladaCli, QuantizedFolderAnswersAsQuantizingOnLoad) {
    const std::string out = dtest::temp_dir() + "/llada-int8";
    const dtest::CommandResult q = dtest::run_cli("quantize --model " + llada_model() + " --out " + out);
    ASSERT_EQ(q.exit_code, 0) << q.out;
    const std::string args = " --json --prompt-ids 1664,1930,101,1931,102 -n 16 -s 8 --block-length 8 2>/dev/null";
    const dtest::CommandResult a = dtest::run_cli("run --model " + out + " --compute int8" + args);
    const dtest::CommandResult b = dtest::run_cli("run --model " + llada_model() + " --compute int8" + args);
    ASSERT_EQ(a.exit_code, 0) << a.out;
    ASSERT_EQ(b.exit_code, 0) << b.out;
    EXPECT_EQ(json::parse(a.out)["compute"], "int8");
    EXPECT_EQ(json::parse(a.out)["answer_ids"], json::parse(b.out)["answer_ids"]);
}
