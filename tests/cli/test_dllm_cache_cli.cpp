// `dimple run --dllm-cache` on the tiny LLaDA-V (rebuilt by the reference_goldens fixture): the
// original's answer with the demo's dLLM-Cache setting (tests/goldens/llada-v-tiny/
// cache_generation.json), and clear errors for values or combinations it cannot run.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "golden_runs.h"
#include "testing.h"

using nlohmann::json;

namespace {

std::string model() { return dtest::reference_goldens_dir() + "/llada-v-tiny/model"; }

}  // namespace

TEST(DllmCacheCli, RunReproducesTheOriginalsCachedAnswer) {
    const json gen = dtest::read_python_json(dtest::source_dir() + "/tests/goldens/llada-v-tiny/cache_generation.json");
    const auto run = std::find_if(gen["runs"].begin(), gen["runs"].end(),
                                  [](const json& r) { return r["name"] == "cache25-7-0.25_lc_text_g16_b16_s4"; });
    ASSERT_NE(run, gen["runs"].end());
    ASSERT_TRUE((*run)["usable"].get<bool>());
    const json& o = (*run)["options"];
    // The family's stop id ends the answer; this run never commits it, as the test needs.
    const std::vector<int64_t> returned = (*run)["returned"].get<std::vector<int64_t>>();
    ASSERT_EQ(std::count(returned.begin(), returned.end(), 126348), 0);
    const dtest::CommandResult r = dtest::run_cli(
        "run --model " + model() + " --compute f32 --json --prompt-ids " + dtest::id_list((*run)["prompt_ids"]) + " -n " +
        o["gen_length"].dump() + " -s " + o["steps"].dump() + " --block-length " + o["block_length"].dump() +
        " --dllm-cache 25,7,0.25 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["answer_ids"].get<std::vector<int64_t>>(), returned);
}

TEST(DllmCacheCli, BadValuesAndCombinationsAreClearErrors) {
    auto refused = [&](const std::string& args, const std::string& message) {
        const dtest::CommandResult r = dtest::run_cli("run --model " + model() + " --prompt-ids 1664,1930,101 " + args);
        EXPECT_EQ(r.exit_code, 2) << args;
        EXPECT_NE(r.out.find(message), std::string::npos) << args << ": " << r.out;
    };
    refused("--dllm-cache 25,7", "expected PROMPT_INTERVAL,GEN_INTERVAL,TRANSFER_RATIO");
    refused("--dllm-cache 25,7,abc", "is not a number");
    refused("--dllm-cache 0,7,0.25", "intervals must be in [1, 65536]");
    refused("--dllm-cache 25,7,1.5", "transfer ratio must be in [0, 1]");
    refused("--dllm-cache 25,7,0.25 --cache", "without prefilling (--no-cache)");
    refused("--dllm-cache 25,7,0.25 --cfg-scale 1", "without classifier-free guidance");
    refused("--dllm-cache 25,7,0.25 --pipeline dim", "dLLM-Cache belongs to the llada pipeline");
}
