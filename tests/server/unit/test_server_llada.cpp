// The server on an LLaDA model (the committed tiny LLaDA with a LLaDA-style tokenizer of ours,
// tools/llada/make_llada_tokenizer.py): a request without decoding fields takes the family's call
// (the llada sampler, greedy, blocks of 32), its answer is generate()'s with those options, ends at
// <|eot_id|> / <|endoftext|>, and streams the same text.
#include <gtest/gtest.h>

#include "server_fixture.h"
#include "testing.h"

using namespace stest;
using namespace dimple;

namespace {

std::string llada_dir() { return dtest::reference_goldens_dir() + "/llada-tiny-chat"; }

const Engine& llada() {
    static const Engine e(llada_dir(), EngineOptions{Compute::F32, "", 0, {}, false});
    return e;
}

}  // namespace

TEST(ServerLlada, AnswersWithTheFamilysCallAndStreamsTheSameText) {
    TestServer s(llada(), llada_dir());
    const json body = {{"messages", user_message("Name a colour.")}, {"max_tokens", 32}};
    const Result r = s.chat(body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json answer = json::parse(r->body);

    GenerateOptions o = llada().family().decoding;
    o.max_new_tokens = 32;
    const Prompt p = llada().prompt(llada().chat_ids({{"user", "Name a colour.", 0}}), {});
    const GenerateResult g = generate(llada().language_model(), p, o);
    const std::vector<int64_t> ids(g.sequence.begin() + int64_t(p.ids.size()), g.sequence.end());
    // One block of 32 masks and 128 steps: 32 steps commit a token each, the 96 others nothing (passed over).
    EXPECT_EQ(g.steps_run, 32);
    EXPECT_EQ(answer["choices"][0]["message"]["content"], llada().answer_text(ids));
    EXPECT_EQ(answer["usage"]["prompt_tokens"], int64_t(p.ids.size()));

    json streamed = body;
    streamed["stream"] = true;
    const Result sr = s.chat(streamed);
    ASSERT_TRUE(sr);
    EXPECT_EQ(streamed_text(parse_sse(sr->body)), answer["choices"][0]["message"]["content"]);
}

TEST(ServerLlada, RefusesWhatTheSamplerCannotRun) {
    TestServer s(llada(), llada_dir());
    expect_error(s.chat({{"messages", user_message("hi")}, {"remasking", "lowest"}}), 400, "remasking");
    expect_error(s.chat({{"messages", user_message("hi")}, {"cfg_scale", 1}, {"cache", true}}), 400, "prefilling");
}
