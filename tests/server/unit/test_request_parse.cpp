// The chat request parser: what it takes from a valid body, and for each malformed one the status,
// the field it names and the message (never a crash: the fuzz target runs it on arbitrary bytes).
#include <gtest/gtest.h>

#include <string>

#include "server/request_parse.h"

using namespace dimple;
using namespace dimple::server;

namespace {

// A 2x2 RGB PNG, and a PNG whose header claims 100000 x 100000 pixels on a few bytes of data.
const std::string kPng = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARGDiPwMAHfAD/aAzCYkAAAAASUVORK5CYII=";
const std::string kBomb = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgABhqAAAYagCAIAAAAnMJyfAAAAC0lEQVR4nGNggAEAAAoAAX+AdF4AAAAASUVORK5CYII=";

ParseContext context() {
    ParseContext c;
    c.model_id = "tiny";
    c.limits.max_images = 2;
    c.limits.max_tokens = 512;
    c.limits.max_steps = 256;
    return c;
}

ChatRequest parse(const std::string& body) { return parse_chat_request(body, context()); }

std::string user(const std::string& content_json) {
    return R"({"messages": [{"role": "user", "content": )" + content_json + "}]}";
}

std::string image_part(const std::string& url) {
    return R"({"type": "image_url", "image_url": {"url": ")" + url + R"("}})";
}

}  // namespace

TEST(RequestParse, TakesTheStandardFields) {
    const ChatRequest r = parse(R"({"model": "tiny", "messages": [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"}], "max_tokens": 16, "temperature": 0, "top_p": 0.5, "seed": -3,
        "stop": ["\n", "END"], "stream": true, "stream_options": {"include_usage": true}, "n": 1, "user": "x"})");
    EXPECT_EQ(r.model, "tiny");
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[0].role, "system");
    EXPECT_EQ(r.messages[1].text, "Hi");
    EXPECT_EQ(r.options.max_new_tokens, 16);
    EXPECT_EQ(r.options.sampling.temperature, 0.f);
    EXPECT_EQ(*r.options.sampling.top_p, 0.5f);
    EXPECT_EQ(r.options.seed, uint64_t(int64_t(-3)));
    EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
    EXPECT_FALSE(r.stream_canvas);
}

TEST(RequestParse, DefaultsAreThoseOfDimpleRun) {
    const ChatRequest r = parse(user(R"("Hi")"));
    const GenerateOptions d;
    EXPECT_EQ(r.options.max_new_tokens, 64);
    EXPECT_EQ(r.options.steps, 64);
    EXPECT_EQ(r.options.sampling.temperature, 0.2f);
    EXPECT_EQ(*r.options.sampling.top_p, 0.95f);
    EXPECT_EQ(*r.options.sampling.top_k, 50);
    EXPECT_EQ(*r.options.threshold, 0.95f);
    EXPECT_EQ(r.options.alg, Algorithm::Origin);
    EXPECT_EQ(r.options.pipeline, Pipeline::Dim);
    EXPECT_TRUE(r.options.use_cache);
    EXPECT_EQ(r.options.seed, d.seed);
    EXPECT_FALSE(r.stream);
}

TEST(RequestParse, TakesTheDiffusionExtensionFields) {
    const ChatRequest r = parse(R"({"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 32,
        "max_tokens": 8, "steps": 12, "threshold": 0, "alg": "entropy", "pipeline": "dream", "top_k": 0,
        "alg_temp": 0.5, "cache": false, "template": "A<mask:3>", "length": 20, "stream": true, "stream_canvas": true})");
    EXPECT_EQ(r.options.max_new_tokens, 32);  // max_completion_tokens wins
    EXPECT_EQ(r.options.steps, 12);
    EXPECT_FALSE(r.options.threshold);
    EXPECT_EQ(r.options.alg, Algorithm::Entropy);
    EXPECT_EQ(r.options.pipeline, Pipeline::Dream);
    EXPECT_FALSE(r.options.sampling.top_k);
    EXPECT_EQ(r.options.alg_temp, 0.5f);
    EXPECT_FALSE(r.options.use_cache);
    EXPECT_EQ(r.answer_template, "A<mask:3>");
    EXPECT_EQ(*r.length, 20);
    EXPECT_TRUE(r.stream_canvas);
}

TEST(RequestParse, TakesTheFasterDecodingFields) {
    const ChatRequest d = parse(R"({"messages": [{"role": "user", "content": "Hi"}]})");
    EXPECT_EQ(d.options.accel.early_stop, EarlyStop::Off);
    EXPECT_EQ(d.options.accel.block_length, 0);
    EXPECT_FALSE(d.options.accel.prunes());
    const ChatRequest r = parse(R"({"messages": [{"role": "user", "content": "Hi"}], "early_stop": "rows",
        "block_length": 8, "dual_cache": true, "cache_refresh": 3, "skip_layers": "1-5/2", "skip_from": 2,
        "prune_layer": 2, "prune_keep": 0.25, "prune_when": "progressive", "prune_step": 6})");
    const Acceleration& a = r.options.accel;
    EXPECT_EQ(a.early_stop, EarlyStop::Rows);
    EXPECT_EQ(a.block_length, 8);
    EXPECT_TRUE(a.dual_cache);
    EXPECT_EQ(a.cache_refresh, 3);
    EXPECT_EQ(a.skip_layers, (std::vector<int>{1, 3, 5}));
    EXPECT_EQ(a.skip_from_step, 2);
    EXPECT_EQ(a.prune_layer, 2);
    EXPECT_EQ(a.prune_keep, 0.25f);
    EXPECT_EQ(a.prune_when, PruneWhen::Progressive);
    EXPECT_EQ(a.prune_step, 6);
}

// "speed": the family's preset first, then the request's own faster-decoding fields change it.
TEST(RequestParse, SpeedPresetsComeFromTheFamilyAndFieldsChangeThem) {
    ParseContext c = context();
    c.defaults.use_cache = false;
    SpeedPreset fast;
    fast.accel.block_length = 16;
    fast.accel.dual_cache = true;
    fast.prefill = true;
    c.speeds = {{Speed::Fast, fast}};
    const ChatRequest r = parse_chat_request(R"({"messages": [{"role": "user", "content": "Hi"}], "speed": "fast",
        "block_length": 8})", c);
    EXPECT_EQ(r.options.accel.block_length, 8);
    EXPECT_TRUE(r.options.accel.dual_cache);
    EXPECT_TRUE(r.options.use_cache);
    const ChatRequest e = parse_chat_request(R"({"messages": [{"role": "user", "content": "Hi"}], "speed": "exact"})", c);
    EXPECT_EQ(e.options.accel.block_length, 0);
    EXPECT_FALSE(e.options.use_cache);
    for (const char* body : {R"({"messages": [{"role": "user", "content": "Hi"}], "speed": "faster"})",
                             R"({"messages": [{"role": "user", "content": "Hi"}], "speed": "warp"})",
                             R"({"messages": [{"role": "user", "content": "Hi"}], "speed": 2})"}) {
        try {
            parse_chat_request(body, c);
            ADD_FAILURE() << body;
        } catch (const ApiError& err) {
            EXPECT_EQ(err.status, 400);
            EXPECT_EQ(err.param, "speed") << body;
        }
    }
}

// LLaDA-V's dLLM-Cache: [prompt_interval, gen_interval, transfer_ratio] or `dimple run`'s "P,G,R".
TEST(RequestParse, TakesTheDllmCacheField) {
    EXPECT_FALSE(parse(R"({"messages": [{"role": "user", "content": "Hi"}]})").options.accel.dllm_cache.enabled());
    DllmCacheSettings c =
        parse(R"({"dllm_cache": [25, 7, 0.25], "messages": [{"role": "user", "content": "Hi"}]})").options.accel.dllm_cache;
    EXPECT_EQ(c.prompt_interval, 25);
    EXPECT_EQ(c.gen_interval, 7);
    EXPECT_EQ(c.transfer_ratio, 0.25);
    c = parse(R"({"dllm_cache": "3,2,0", "messages": [{"role": "user", "content": "Hi"}]})").options.accel.dllm_cache;
    EXPECT_EQ(c.prompt_interval, 3);
    EXPECT_EQ(c.gen_interval, 2);
    EXPECT_EQ(c.transfer_ratio, 0.0);
}

// Values at the edges of their ranges are taken as what they mean, not refused by a later check
// that sees them rounded to a float (top_p 1e-300 was a 400 naming max_tokens) or cast to a signed
// integer (seeds of 2^63 and more were refused).
TEST(RequestParse, TakesValuesAtTheEdgesOfTheirRanges) {
    ChatRequest r = parse(R"({"top_p": 1e-300, "seed": 18446744073709551615, "messages": [{"role": "user", "content": "hi"}]})");
    ASSERT_TRUE(r.options.sampling.top_p);
    EXPECT_GT(*r.options.sampling.top_p, 0.f);
    EXPECT_EQ(r.options.seed, UINT64_MAX);
    r = parse(R"({"seed": 9223372036854775808, "messages": [{"role": "user", "content": "hi"}]})");
    EXPECT_EQ(r.options.seed, uint64_t(1) << 63);
    r = parse(R"({"temperature": 1e-40, "messages": [{"role": "user", "content": "hi"}]})");
    EXPECT_GE(r.options.sampling.temperature, 0.f);
}

TEST(RequestParse, DecodesImagesFromDataUrls) {
    const ChatRequest r = parse(user("[" + image_part(kPng) + R"(, {"type": "text", "text": "What is it?"}])"));
    ASSERT_EQ(r.images.size(), 1u);
    EXPECT_EQ(r.images[0].width, 2);
    EXPECT_EQ(r.images[0].height, 2);
    EXPECT_EQ(r.images[0].rgb[0], 255);
    EXPECT_EQ(r.messages[0].images, 1);
    EXPECT_EQ(r.messages[0].text, "What is it?");
    // Text first, as OpenAI's examples write it: the image still goes before the text.
    const ChatRequest t = parse(user(R"([{"type": "text", "text": "A"}, )" + image_part(kPng) + R"(, {"type": "text", "text": "B"}])"));
    EXPECT_EQ(t.messages[0].images, 1);
    EXPECT_EQ(t.messages[0].text, "AB");
}

struct BadCase {
    std::string body;
    int status;
    std::string param, message;
};

TEST(RequestParse, RefusesMalformedRequestsNamingTheProblem) {
    const std::string many(40, '[');
    const std::vector<BadCase> cases = {
        {"", 400, "", "not valid JSON"},
        {"{", 400, "", "not valid JSON"},
        {"{\"messages\": [}", 400, "", "not valid JSON"},
        {"\xff\xfe", 400, "", "not valid JSON"},
        {R"({"messages": [{"role": "user", "content": "\ud800"}]})", 400, "", "not valid JSON"},
        {many, 400, "", "nests deeper"},
        {"[]", 400, "", "must be a JSON object"},
        {"null", 400, "", "must be a JSON object"},
        {"42", 400, "", "must be a JSON object"},
        {"{}", 400, "messages", "'messages' is missing"},
        {R"({"messages": 5})", 400, "messages", "must be a list of messages"},
        {R"({"messages": []})", 400, "messages", "is empty"},
        {R"({"messages": ["hi"]})", 400, "messages[0]", "must be an object"},
        {R"({"messages": [{"content": "hi"}]})", 400, "messages[0].role", "is missing"},
        {R"({"messages": [{"role": 3, "content": "hi"}]})", 400, "messages[0].role", "must be a string"},
        {R"({"messages": [{"role": "tool", "content": "hi"}]})", 400, "messages[0].role", "not supported"},
        {R"({"messages": [{"role": "user"}]})", 400, "messages[0].content", "is missing"},
        {user("12"), 400, "messages[0].content", "a string or a list"},
        {user("null"), 400, "messages[0].content", "a string or a list"},
        {user("[5]"), 400, "messages[0].content[0]", "must be an object"},
        {user(R"([{"text": "a"}])"), 400, "messages[0].content[0].type", "is missing"},
        {user(R"([{"type": "input_audio"}])"), 400, "messages[0].content[0].type", "not supported"},
        {user(R"([{"type": "text"}])"), 400, "messages[0].content[0].text", "is missing"},
        {user(R"([{"type": "text", "text": ["a"]}])"), 400, "messages[0].content[0].text", "must be a string"},
        {user(R"([{"type": "image_url"}])"), 400, "messages[0].content[0].image_url", "is missing"},
        {user(R"([{"type": "image_url", "image_url": "data:x"}])"), 400, "messages[0].content[0].image_url", "must be an object"},
        {user(R"([{"type": "image_url", "image_url": {}}])"), 400, "messages[0].content[0].image_url.url", "is missing"},
        {user("[" + image_part("https://example.com/cat.png") + "]"), 400, "messages[0].content[0].image_url.url", "not fetched"},
        {user("[" + image_part("file:///etc/passwd") + "]"), 400, "messages[0].content[0].image_url.url", "data: URL"},
        {user("[" + image_part("data:image/png;base64,@@@@") + "]"), 400, "messages[0].content[0].image_url.url", "base64"},
        {user("[" + image_part("data:image/png,rawbytes") + "]"), 400, "messages[0].content[0].image_url.url", "could not be read"},
        {user("[" + image_part("data:image/png;base64,aGVsbG8gd29ybGQ=") + "]"), 400,
         "messages[0].content[0].image_url.url", "could not be read"},
        {user("[" + image_part(kBomb) + "]"), 400, "messages[0].content[0].image_url.url", "could not be read"},
        {user("[" + image_part(kPng) + "," + image_part(kPng) + "," + image_part(kPng) + "]"), 400,
         "messages[0].content[2].image_url", "too many images"},
        {R"({"messages": [{"role": "assistant", "content": [)" + image_part(kPng) + "]}]}", 400, "messages[0].content",
         "only user messages"},
        {R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})", 404, "model", "does not exist"},
        {R"({"model": 7, "messages": [{"role": "user", "content": "hi"}]})", 400, "model", "must be a string"},
        {R"({"max_tokens": -1, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens", "[1, 512]"},
        {R"({"max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens", "[1, 512]"},
        {R"({"max_tokens": 513, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens", "[1, 512]"},
        {R"({"max_tokens": 99999999999999999999, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens",
         "must be an integer"},
        {R"({"max_tokens": 18446744073709551615, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens",
         "[1, 512]"},
        {R"({"max_tokens": 1.5, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens", "must be an integer"},
        {R"({"max_tokens": "16", "messages": [{"role": "user", "content": "hi"}]})", 400, "max_tokens", "must be an integer"},
        {R"({"max_completion_tokens": 0, "messages": [{"role": "user", "content": "hi"}]})", 400, "max_completion_tokens", "[1, 512]"},
        {R"({"steps": 0, "messages": [{"role": "user", "content": "hi"}]})", 400, "steps", "[1, 256]"},
        {R"({"steps": 100000, "messages": [{"role": "user", "content": "hi"}]})", 400, "steps", "[1, 256]"},
        {R"({"temperature": -1, "messages": [{"role": "user", "content": "hi"}]})", 400, "temperature", "[0, 2]"},
        {R"({"temperature": 1e400, "messages": [{"role": "user", "content": "hi"}]})", 400, "", "number overflow"},
        {R"({"temperature": "hot", "messages": [{"role": "user", "content": "hi"}]})", 400, "temperature", "must be a number"},
        {R"({"top_p": 0, "messages": [{"role": "user", "content": "hi"}]})", 400, "top_p", "(0, 1]"},
        {R"({"top_p": 1.5, "messages": [{"role": "user", "content": "hi"}]})", 400, "top_p", "[0, 1]"},
        {R"({"top_k": -1, "messages": [{"role": "user", "content": "hi"}]})", 400, "top_k", "must be in"},
        {R"({"threshold": 2, "messages": [{"role": "user", "content": "hi"}]})", 400, "threshold", "[0, 1]"},
        {R"({"alg_temp": -0.5, "messages": [{"role": "user", "content": "hi"}]})", 400, "alg_temp", "[0, 100]"},
        {R"({"alg": "fastest", "messages": [{"role": "user", "content": "hi"}]})", 400, "alg", "unknown decoding algorithm"},
        {R"({"alg": 1, "messages": [{"role": "user", "content": "hi"}]})", 400, "alg", "must be a string"},
        {R"({"pipeline": "mdlm", "messages": [{"role": "user", "content": "hi"}]})", 400, "pipeline", "unknown pipeline"},
        {R"({"cache": "yes", "messages": [{"role": "user", "content": "hi"}]})", 400, "cache", "true or false"},
        {R"({"seed": 1.5, "messages": [{"role": "user", "content": "hi"}]})", 400, "seed", "must be an integer"},
        {R"({"n": 2, "messages": [{"role": "user", "content": "hi"}]})", 400, "n", "only n = 1"},
        {R"({"stop": 5, "messages": [{"role": "user", "content": "hi"}]})", 400, "stop", "a string or a list"},
        {R"({"stop": [1], "messages": [{"role": "user", "content": "hi"}]})", 400, "stop[0]", "must be a string"},
        {R"({"stop": [""], "messages": [{"role": "user", "content": "hi"}]})", 400, "stop", "must not be empty"},
        {R"({"stop": ["a","b","c","d","e"], "messages": [{"role": "user", "content": "hi"}]})", 400, "stop", "at most 4"},
        {R"({"stream": "yes", "messages": [{"role": "user", "content": "hi"}]})", 400, "stream", "true or false"},
        {R"({"stream_canvas": true, "messages": [{"role": "user", "content": "hi"}]})", 400, "stream_canvas", "needs 'stream'"},
        {R"({"stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]})", 400,
         "stream_options", "needs 'stream'"},
        {R"({"stream": true, "stream_options": 3, "messages": [{"role": "user", "content": "hi"}]})", 400, "stream_options",
         "must be an object"},
        {R"({"length": -1, "messages": [{"role": "user", "content": "hi"}]})", 400, "length", "[0, 63]"},
        {R"({"length": 64, "messages": [{"role": "user", "content": "hi"}]})", 400, "length", "[0, 63]"},
        {R"({"template": 5, "messages": [{"role": "user", "content": "hi"}]})", 400, "template", "must be a string"},
        {R"({"tools": [{"type": "function"}], "messages": [{"role": "user", "content": "hi"}]})", 400, "tools", "not supported"},
        {R"({"logprobs": true, "messages": [{"role": "user", "content": "hi"}]})", 400, "logprobs", "not supported"},
        {R"({"early_stop": "now", "messages": [{"role": "user", "content": "hi"}]})", 400, "early_stop", "unknown early stop"},
        {R"({"block_length": -2, "messages": [{"role": "user", "content": "hi"}]})", 400, "block_length", "must be in"},
        {R"({"skip_layers": "x", "messages": [{"role": "user", "content": "hi"}]})", 400, "skip_layers", "bad layer list"},
        {R"({"skip_layers": "0-999999,0-999999", "messages": [{"role": "user", "content": "hi"}]})", 400, "skip_layers",
         "past the last layer"},
        {R"({"seed": 18446744073709551616, "messages": [{"role": "user", "content": "hi"}]})", 400, "seed", "must be an integer"},
        {R"({"skip_layers": [1], "messages": [{"role": "user", "content": "hi"}]})", 400, "skip_layers", "must be a string"},
        {R"({"prune_keep": 2, "messages": [{"role": "user", "content": "hi"}]})", 400, "prune_keep", "[0, 1]"},
        {R"({"prune_when": "soon", "messages": [{"role": "user", "content": "hi"}]})", 400, "prune_when", "unknown pruning"},
        {R"({"dllm_cache": 5, "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache", "must be [prompt_interval"},
        {R"({"dllm_cache": [25, 7], "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache", "must be [prompt_interval"},
        {R"({"dllm_cache": [0, 7, 0.25], "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache[0]", "must be in"},
        {R"({"dllm_cache": [25, 7.5, 0.25], "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache[1]", "an integer"},
        {R"({"dllm_cache": [25, 7, 1.5], "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache[2]", "[0, 1]"},
        {R"({"dllm_cache": "25,7", "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache", "expected PROMPT"},
        {R"({"dllm_cache": "25,7,x", "messages": [{"role": "user", "content": "hi"}]})", 400, "dllm_cache", "not a number"},
    };
    for (const BadCase& c : cases) {
        try {
            parse(c.body);
            ADD_FAILURE() << "accepted: " << c.body.substr(0, 200);
        } catch (const ApiError& e) {
            EXPECT_EQ(e.status, c.status) << c.body.substr(0, 200) << "\n" << e.what();
            EXPECT_EQ(e.param, c.param) << c.body.substr(0, 200) << "\n" << e.what();
            EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
                << c.body.substr(0, 200) << "\n" << e.what() << "\n(expected '" << c.message << "')";
            EXPECT_FALSE(e.type.empty());
        }
    }
}
