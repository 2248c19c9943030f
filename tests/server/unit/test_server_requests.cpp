// Requests at the edges of what the server accepts, answered as `dimple run` would: every answer
// position fixed by priors, temperatures and top_p too small for a float, 64-bit seeds.
#include <gtest/gtest.h>

#include "server_fixture.h"

using namespace stest;
using namespace dimple;

namespace {

std::string content(const Result& r) {
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("choices")) {
        ADD_FAILURE() << r->body;
        return "";
    }
    return j["choices"][0]["message"]["content"];
}

}  // namespace

// Nothing is left to decode: the answer is the priors themselves, with no step run (it was a 500
// "decoding step after the last one", and a 200 stream ending in that error).
TEST(ServerRequests, EveryAnswerPositionFixedIsAnsweredWithoutAStep) {
    TestServer s;
    const std::string tmpl = "A red circle.";
    const int tmpl_tokens = int(engine().tokenizer().encode(tmpl).size());
    std::vector<std::pair<json, std::string>> cases;
    json zero = request("Hello", 8, 8);
    zero["length"] = 0;
    cases.push_back({zero, ""});
    json filled = request("Hello", tmpl_tokens, 8);
    filled["template"] = tmpl;
    cases.push_back({filled, tmpl});
    for (auto& [body, text] : cases) {
        const auto r = s.chat(body);
        EXPECT_EQ(content(r), text) << body.dump();
        if (!r || r->status != 200) continue;
        const json j = json::parse(r->body);
        EXPECT_EQ(j["dimple"]["steps"], 0);
        EXPECT_EQ(j["choices"][0]["finish_reason"], text.empty() ? "stop" : "length");
        body["stream"] = true;
        const auto st = s.chat(body);
        ASSERT_TRUE(st);
        const Sse sse = parse_sse(st->body);
        EXPECT_TRUE(sse.done);
        for (const json& e : sse.events) EXPECT_FALSE(e.contains("error")) << e.dump();
        EXPECT_EQ(streamed_text(sse), text);
    }
}

// Temperatures whose logits/temperature overflow a float answer as temperature 0 does (they
// answered garbage); top_p below a float's range keeps the top token (it was a 400 naming
// max_tokens); seeds take the whole 64-bit range (2^63 and more were refused).
TEST(ServerRequests, ValuesAtTheEdgesOfTheirRanges) {
    TestServer s;
    json body = request("Name a colour.", 8, 8);
    body["top_k"] = 0;
    const std::string greedy = content(s.chat(body));
    for (double t : {1e-45, 1e-40, 1e-38}) {
        body["temperature"] = t;
        EXPECT_EQ(content(s.chat(body)), greedy) << t;
    }
    body["temperature"] = 0.7;
    body["top_p"] = 1e-300;
    EXPECT_EQ(content(s.chat(body)), greedy);  // the most likely token alone, at every position
    body["top_p"] = 1;
    body["seed"] = json(UINT64_MAX);
    content(s.chat(body));
    body["seed"] = json(uint64_t(1) << 63);
    content(s.chat(body));
}

// A prompt far over --max-prompt-tokens is refused from its length before it is encoded (10 MB of
// text cost 1.6 s of encoding, and left buffers of its size with the thread that encoded it).
TEST(ServerRequests, AHugePromptIsRefusedBeforeItIsEncoded) {
    TestServer s;
    const auto t0 = std::chrono::steady_clock::now();
    expect_error(s.chat(request(std::string(size_t(10) << 20, 'a'), 8, 8)), 400, "--max-prompt-tokens");
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
    // Just over the limit, encoded as far as the limit: the count is not the whole text's.
    server::Limits l;
    l.max_prompt_tokens = 64;
    TestServer small(l);
    expect_error(small.chat(request(std::string(4000, 'a') + " b c d", 8, 8)), 400, "more than 64 tokens");
}
