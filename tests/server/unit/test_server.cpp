// The server over loopback, on the fixture model in f32: routes, errors, answers equal to
// generate()'s, streaming (text and canvas) equal to the plain answer, batching of concurrent
// requests, stop strings, a full queue, the time limit, and cancellation when a client goes away.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "server_fixture.h"

using namespace stest;
using namespace dimple;

namespace {

struct Expected {
    std::string text, finish_reason;
    int64_t prompt_tokens = 0;
};

// What generate() answers for the same prompt and options (the server's defaults otherwise).
Expected expected(const std::string& text, int max_tokens, int steps, bool with_photo = false, float top_p = 1) {
    const Engine& e = engine();
    const std::vector<int64_t> ids = e.chat_ids({{"user", text, with_photo ? 1 : 0}});
    const Prompt p = e.prompt(ids, with_photo ? std::vector<Image>{photo()} : std::vector<Image>{});
    GenerateOptions o;
    o.max_new_tokens = max_tokens;
    o.steps = steps;
    o.sampling.temperature = 0;
    o.sampling.top_p = top_p;
    const GenerateResult r = generate(e.language_model(), p, o);
    const std::vector<int64_t> answer(r.sequence.begin() + int64_t(p.ids.size()), r.sequence.end());
    // "length" only for an answer with text in every position (no eos, no padding).
    const bool ended = std::any_of(answer.begin(), answer.end(),
                                   [&](int64_t id) { return id == e.config().ids.eos || id == e.config().ids.pad; });
    return {e.answer_text(answer), ended ? "stop" : "length", int64_t(p.ids.size())};
}

}  // namespace

TEST(Server, HealthModelsMetricsAndPage) {
    TestServer s;
    Client c = s.client();
    auto r = c.Get("/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(json::parse(r->body), json({{"status", "ok"}}));
    r = c.Get("/v1/models");
    ASSERT_TRUE(r);
    const json models = json::parse(r->body);
    EXPECT_EQ(models["object"], "list");
    EXPECT_EQ(models["data"][0]["id"], "model");
    r = c.Get("/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(r->body.find("<html"), std::string::npos);
    r = c.Get("/metrics");
    ASSERT_TRUE(r);
    for (const char* name : {"dimple_http_responses_total", "dimple_answer_tokens_total", "dimple_forward_passes_total",
                             "dimple_queue_length", "dimple_step_seconds_bucket"})
        EXPECT_NE(r->body.find(name), std::string::npos) << name;
}

TEST(Server, UnknownRouteWrongMethodAndMalformedRequestsGetErrors) {
    TestServer s;
    Client c = s.client();
    expect_error(c.Get("/v2/nothing"), 404, "no route GET /v2/nothing");
    expect_error(c.Get("/v1/chat/completions"), 405, "not allowed");
    expect_error(c.Post("/health", "{}", "application/json"), 405, "not allowed");
    expect_error(c.Delete("/v1/models"), 405, "not allowed");
    expect_error(c.Post("/v1/chat/completions", "{not json", "application/json"), 400, "not valid JSON");
    expect_error(s.chat({{"messages", "hi"}}), 400, "'messages' must be a list");
    expect_error(s.chat({{"model", "gpt-4o"}, {"messages", user_message("hi")}}), 404, "does not exist");
    expect_error(s.chat({{"n", 3}, {"messages", user_message("hi")}}), 400, "only n = 1");
    expect_error(s.chat({{"template", "<mask:x>"}, {"messages", user_message("hi")}}), 400, "mask");
    expect_error(s.chat({{"max_tokens", 4}, {"length", 3}, {"template", "a long template text here"},
                         {"messages", user_message("hi")}}), 400, "");
    expect_error(s.chat({{"messages", user_message("look: <|vision_start|><|image_pad|><|vision_end|>")}}), 400,
                 "image placeholder");
    expect_error(s.chat({{"skip_layers", "99"}, {"messages", user_message("hi")}}), 400, "does not exist");
    expect_error(s.chat({{"dual_cache", true}, {"messages", user_message("hi")}}), 400, "needs blocks");
    // Still serving afterwards.
    const auto r = s.chat(request("Hello", 4, 4));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
}

TEST(Server, LimitsFromFlags) {
    server::Limits l;
    l.max_body_bytes = 2000;
    l.max_prompt_tokens = 30;
    l.max_images = 1;
    TestServer s(l);
    expect_error(s.chat({{"messages", user_message(std::string(3000, 'a'))}}), 413, "larger than 2000 bytes");
    expect_error(s.chat({{"messages", user_message(std::string(300, 'a') + " b c d e f g h i j k l m n o p")}}), 400,
                 "--max-prompt-tokens");
}

TEST(Server, ApiKeyGuardsAllButHealthAndThePage) {
    TestServer s({}, "sesame");
    Client c = s.client();
    expect_error(c.Get("/v1/models"), 401, "API key");
    expect_error(s.chat(request("Hello", 4, 4)), 401, "API key");
    expect_error(s.chat(request("Hello", 4, 4), {{"Authorization", "Bearer wrong"}}), 401, "API key");
    EXPECT_EQ(c.Get("/health")->status, 200);
    EXPECT_EQ(c.Get("/")->status, 200);
    EXPECT_EQ(c.Get("/v1/models", {{"Authorization", "Bearer sesame"}})->status, 200);
    const auto r = s.chat(request("Hello", 4, 4), {{"Authorization", "Bearer sesame"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
}

TEST(Server, AnswerEqualsGenerate) {
    TestServer s;
    for (const auto& [text, n, steps] : std::vector<std::tuple<std::string, int, int>>{{"Hello", 8, 8}, {"Name a colour.", 12, 6}}) {
        json body = request(text, n, steps);
        body.erase("top_p");  // the default, 0.95
        const auto r = s.chat(body);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        const json j = json::parse(r->body);
        const Expected e = expected(text, n, steps, false, 0.95f);
        EXPECT_EQ(j["object"], "chat.completion");
        EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
        EXPECT_EQ(j["choices"][0]["message"]["content"], e.text);
        EXPECT_EQ(j["choices"][0]["finish_reason"], e.finish_reason);
        EXPECT_EQ(j["usage"]["prompt_tokens"], e.prompt_tokens);
        EXPECT_GT(j["usage"]["completion_tokens"].get<int>(), 0);
        EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
    }
}

TEST(Server, ImageAsDataUrl) {
    TestServer s;
    const auto r = s.chat(request("What is in this picture?", 8, 8, true));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    const Expected e = expected("What is in this picture?", 8, 8, true);
    EXPECT_EQ(j["choices"][0]["message"]["content"], e.text);
    EXPECT_EQ(j["usage"]["prompt_tokens"], e.prompt_tokens);
    EXPECT_GT(e.prompt_tokens, 30);  // the image's tokens are counted
}

TEST(Server, StreamedTextEqualsTheAnswer) {
    TestServer s;
    for (bool with_photo : {false, true}) {
        json body = request("Describe it.", 16, 10, with_photo);
        const auto plain = s.chat(body);
        ASSERT_TRUE(plain);
        const json answer = json::parse(plain->body);
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};
        const auto r = s.chat(body);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200);
        EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
        const Sse sse = parse_sse(r->body);
        ASSERT_TRUE(sse.done);
        ASSERT_GE(sse.events.size(), 3u);
        EXPECT_EQ(sse.events.front()["choices"][0]["delta"]["role"], "assistant");
        EXPECT_EQ(streamed_text(sse), answer["choices"][0]["message"]["content"]);
        const json& last_choice = sse.events[sse.events.size() - 2]["choices"][0];
        EXPECT_EQ(last_choice["finish_reason"], answer["choices"][0]["finish_reason"]);
        EXPECT_EQ(sse.events.back()["usage"], answer["usage"]);
        for (const json& e : sse.events) EXPECT_EQ(e["object"], "chat.completion.chunk");
    }
}

TEST(Server, CanvasStreamShowsEveryStep) {
    TestServer s;
    json body = request("Count to five.", 12, 12);
    const json answer = json::parse(s.chat(body)->body);
    body["stream"] = true;
    body["stream_canvas"] = true;
    const auto r = s.chat(body);
    ASSERT_TRUE(r);
    const Sse sse = parse_sse(r->body);
    ASSERT_TRUE(sse.done);
    EXPECT_EQ(streamed_text(sse), answer["choices"][0]["message"]["content"]);
    std::vector<json> canvases;
    for (const json& e : sse.events)
        if (e.contains("dimple")) canvases.push_back(e["dimple"]);
    ASSERT_EQ(int(canvases.size()), answer["dimple"]["steps"].get<int>());
    json previous = json::array();
    for (int i = 0; i < 12; ++i) previous.push_back(nullptr);
    for (size_t k = 0; k < canvases.size(); ++k) {
        const json& c = canvases[k];
        EXPECT_EQ(c["step"], int(k + 1));
        EXPECT_EQ(c["max_steps"], 12);
        ASSERT_EQ(c["canvas"].size(), 12u);
        int nulls = 0;
        for (const json& t : c["canvas"]) nulls += t.is_null();
        EXPECT_EQ(c["masks"], nulls);
        EXPECT_FALSE(c["committed"].empty());
        for (const json& pos : c["committed"]) {
            EXPECT_TRUE(previous[pos.get<size_t>()].is_null()) << "position " << pos << " committed twice";
            EXPECT_TRUE(c["canvas"][pos.get<size_t>()].is_object());
        }
        for (size_t p = 0; p < 12; ++p) {  // committed tokens never change
            if (!previous[p].is_null()) {
                EXPECT_EQ(previous[p], c["canvas"][p]);
            }
        }
        EXPECT_GE(c["elapsed_ms"].get<double>(), 0);
        previous = c["canvas"];
    }
}

TEST(Server, ConcurrentRequestsShareStepsAndAnswerAsAlone) {
    TestServer s;
    std::vector<json> bodies;
    const char* prompts[] = {"Hi", "What is the capital of France?", "Tell me a story about a fox.", "Why?", "Look.", "2+2="};
    for (int i = 0; i < 6; ++i) {
        json b = request(prompts[i], 6 + 2 * i, 6 + i, i == 4);
        if (i % 2) b["cache"] = false;
        if (i == 2) b["skip_layers"] = "0", b["early_stop"] = "rows";  // runs apart from the others' layers
        if (i == 4) b["block_length"] = 2, b["dual_cache"] = true;
        bodies.push_back(b);
    }
    std::vector<std::string> alone;
    for (const json& b : bodies) alone.push_back(json::parse(s.chat(b)->body)["choices"][0]["message"]["content"]);
    // One scrape: the last answer reaches the client before its step is counted.
    const auto before = s.metrics();
    const double passes = before.at("dimple_forward_passes_total"), batched = before.at("dimple_batched_requests_total");
    EXPECT_EQ(passes, batched);  // one at a time so far

    std::vector<std::future<std::string>> together;
    for (const json& b : bodies)
        together.push_back(std::async(std::launch::async, [&s, b] {
            const auto r = s.chat(b);
            return r && r->status == 200 ? json::parse(r->body)["choices"][0]["message"]["content"].get<std::string>()
                                         : std::string("failed");
        }));
    for (size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(together[i].get(), alone[i]) << "request " << i;
    const auto after = s.metrics();
    const double passes2 = after.at("dimple_forward_passes_total") - passes;
    const double batched2 = after.at("dimple_batched_requests_total") - batched;
    EXPECT_GT(batched2, passes2 * 1.5) << "the concurrent requests did not share forward passes";
}

TEST(Server, StopStringsEndTheAnswer) {
    TestServer s;
    json body = request("Say something long.", 24, 24);
    body["top_k"] = 0;
    const std::string full = json::parse(s.chat(body)->body)["choices"][0]["message"]["content"];
    // A stop string from the middle of the answer, cut at UTF-8 character boundaries.
    auto boundary = [&](size_t i) {
        while (i < full.size() && (static_cast<unsigned char>(full[i]) & 0xC0) == 0x80) ++i;
        return i;
    };
    const size_t from = boundary(full.size() / 2), to = boundary(from + 1);
    ASSERT_LT(from, full.size());
    const std::string stop = full.substr(from, to - from);
    const std::string want = full.substr(0, full.find(stop));
    body["stop"] = {stop, "\x01never"};
    const json j = json::parse(s.chat(body)->body);
    EXPECT_EQ(j["choices"][0]["message"]["content"], want);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    body["stream"] = true;
    EXPECT_EQ(streamed_text(parse_sse(s.chat(body)->body)), want);
}

TEST(Server, FullQueueGets429WithRetryAfter) {
    server::Limits l;
    l.queue_size = 1;
    l.max_batch = 1;
    auto s = std::make_unique<TestServer>(l);
    // One token per step over 160 positions: well over the limit even on a quiet machine (48
    // positions finished inside 0.3 s there and the stream ended without the error).
    json slow = request("Take your time.", 160, 256);
    slow["threshold"] = 0;
    slow["top_p"] = 1;
    const int port = s->port();
    auto post = [port, slow] {
        Client c("127.0.0.1", port);
        c.set_read_timeout(120);
        const auto r = c.Post("/v1/chat/completions", slow.dump(), "application/json");
        return r ? r->status : -1;
    };
    auto first = std::async(std::launch::async, post);
    ASSERT_TRUE(eventually([&] { return s->metric("dimple_active_requests") == 1; }));
    auto second = std::async(std::launch::async, post);
    ASSERT_TRUE(eventually([&] { return s->metric("dimple_queue_length") == 1; }));
    const auto r = s->chat(slow);
    expect_error(r, 429, "busy");
    EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    s.reset();  // stopping the server fails what is left with 503
    EXPECT_EQ(first.get(), 503);
    EXPECT_EQ(second.get(), 503);
}

TEST(Server, TimeLimitEndsARequest) {
    server::Limits l;
    l.time_limit_s = 0.3;
    TestServer s(l);
    // One token per step over 160 positions: well over the limit even on a quiet machine (48
    // positions finished inside 0.3 s there and the stream ended without the error).
    json slow = request("Take your time.", 160, 256);
    slow["threshold"] = 0;
    slow["top_p"] = 1;
    expect_error(s.chat(slow), 504, "time limit");
    slow["stream"] = true;
    const auto r = s.chat(slow);
    ASSERT_TRUE(r);
    const Sse sse = parse_sse(r->body);
    EXPECT_TRUE(sse.done);
    ASSERT_FALSE(sse.events.empty());
    ASSERT_TRUE(sse.events.back().is_object() && sse.events.back().contains("error")) << sse.events.back().dump();
    EXPECT_EQ(sse.events.back()["error"]["code"], "time_limit_exceeded");
}

TEST(Server, ClientThatGoesAwayCancelsItsRequest) {
    TestServer s;
    // One token per step over 160 positions: well over the limit even on a quiet machine (48
    // positions finished inside 0.3 s there and the stream ended without the error).
    json slow = request("Take your time.", 160, 256);
    slow["threshold"] = 0;
    slow["top_p"] = 1;
    for (bool stream : {true, false}) {
        const double before = s.metric("dimple_requests_cancelled_total");
        slow["stream"] = stream;
        RawConnection c(s.port());
        ASSERT_TRUE(c.send(chat_bytes(slow.dump())));
        ASSERT_TRUE(eventually([&] { return s.metric("dimple_active_requests") == 1; }));
        if (stream) {
            ASSERT_TRUE(c.read_until("data: "));
        }
        c.close();
        EXPECT_TRUE(eventually([&] { return s.metric("dimple_requests_cancelled_total") == before + 1; }))
            << (stream ? "streaming" : "plain") << " request not cancelled";
        EXPECT_TRUE(eventually([&] { return s.metric("dimple_active_requests") == 0; }));
    }
    // The next request is served.
    const auto r = s.chat(request("Hello", 4, 4));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}
