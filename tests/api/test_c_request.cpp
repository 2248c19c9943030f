// The C API's requests (include/dimple.h) through libdimple.so: the answers of the command line,
// stepping, callbacks, cancelling, batches, pixels from memory, threads, and refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "c_api_fixture.h"
#include "testing.h"

using namespace capi;

namespace {

dimple_image file(const char* path) { return {path, nullptr, 0, 0}; }

// Without confident decoding: one token per step, many steps.
dimple_decoding_options step_by_step() {
    dimple_decoding_options o = greedy();
    o.threshold = 0;
    o.max_new_tokens = o.steps = 24;
    return o;
}

dimple_request* make_request(const dimple_image& image, const char* question,
                             const dimple_decoding_options& o = greedy()) {
    const dimple_message msg{"user", question, &image, 1};
    dimple_request* r = nullptr;
    EXPECT_EQ(dimple_request_create(shipped_model(), &msg, 1, &o, &r), DIMPLE_OK) << dimple_last_error();
    return r;
}

// A 24-bit BMP of the pixels (rows bottom-up, each padded to 4 bytes), for comparing a file with
// the same pixels given from memory.
void write_bmp(const std::string& path, const std::vector<uint8_t>& rgb, int w, int h) {
    const int stride = (3 * w + 3) & ~3;
    std::vector<uint8_t> out(54 + size_t(stride) * size_t(h), 0);
    auto put32 = [&](size_t at, uint32_t v) { for (int i = 0; i < 4; ++i) out[at + size_t(i)] = uint8_t(v >> (8 * i)); };
    out[0] = 'B';
    out[1] = 'M';
    put32(2, uint32_t(out.size()));
    put32(10, 54);
    put32(14, 40);
    put32(18, uint32_t(w));
    put32(22, uint32_t(h));
    out[26] = 1;
    out[28] = 24;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c)
                out[54 + size_t(h - 1 - y) * size_t(stride) + size_t(3 * x + c)] = rgb[size_t(3 * (y * w + x) + 2 - c)];
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
}

}  // namespace

// The examples' answer (examples/README.md), and exactly what `dimple run` answers.
TEST(CApiRequest, AnswersAsTheCommandLine) {
    const Answer a = ask(shipped_model(), file(example_image(1)), "Describe the image.");
    ASSERT_EQ(a.status, DIMPLE_OK) << a.error;
    EXPECT_EQ(a.text, "There are three shapes: a green triangle, a blue square and a green circle.");
    EXPECT_TRUE(a.finished);
    const auto cli = dtest::run_cli("run --compute f32 -t 0 --json -q -i " + std::string(example_image(1)) + " -p 'Describe the image.'");
    ASSERT_EQ(cli.exit_code, 0) << cli.out;
    const nlohmann::json j = nlohmann::json::parse(cli.out.substr(cli.out.find('{')));
    EXPECT_EQ(j["answer_ids"].get<std::vector<dimple_token>>(), a.ids);
    EXPECT_EQ(j["steps"].get<int>(), a.steps);
}

TEST(CApiRequest, SteppingByHandEqualsRunning) {
    const dimple_image image = file(example_image(3));
    const Answer whole = ask(shipped_model(), image, "Describe the image.", step_by_step());
    EXPECT_GT(whole.steps, 10) << "one or two tokens a step";
    dimple_request* r = make_request(image, "Describe the image.", step_by_step());
    ASSERT_NE(r, nullptr);
    int64_t committed_before = 0;
    int steps = 0;
    while (!dimple_request_finished(r)) {
        ASSERT_EQ(dimple_request_step(r), DIMPLE_OK) << dimple_last_error();
        dimple_step s;
        dimple_step_init(&s);
        ASSERT_EQ(dimple_request_get_step(r, &s), DIMPLE_OK);
        EXPECT_EQ(s.step, ++steps);
        int64_t committed = 0, masks = 0;
        for (size_t i = 0; i < s.answer_len; ++i) {
            committed += s.committed[i];
            masks += s.answer[i] == 455;
            if (!s.committed[i]) {
                EXPECT_EQ(s.answer[i], 455) << "an uncommitted position holds the mask";
            }
        }
        EXPECT_EQ(masks, s.masks_left);
        EXPECT_EQ(committed - committed_before, int64_t(s.n_newly_committed));
        committed_before = committed;
    }
    EXPECT_EQ(dimple_request_step(r), DIMPLE_OK) << "a finished request steps as a no-op";
    const Answer by_hand = result_of(r);
    EXPECT_EQ(by_hand.ids, whole.ids);
    EXPECT_EQ(by_hand.steps, whole.steps);
    EXPECT_EQ(by_hand.text, whole.text);
    dimple_request_free(r);
}

TEST(CApiRequest, TheCallbackSeesEveryStepAndMayCancel) {
    struct Seen {
        int calls = 0, cancel_at = 0;
        double elapsed = 0;
    } seen;
    auto callback = [](const dimple_step* s, void* user) -> int {
        Seen& v = *static_cast<Seen*>(user);
        EXPECT_EQ(s->step, ++v.calls);
        EXPECT_GE(s->elapsed_seconds, v.elapsed);
        v.elapsed = s->elapsed_seconds;
        return v.calls == v.cancel_at;
    };
    dimple_request* r = make_request(file(example_image(1)), "Describe the image.", step_by_step());
    ASSERT_EQ(dimple_request_run(r, callback, &seen), DIMPLE_OK);
    EXPECT_EQ(seen.calls, result_of(r).steps);
    dimple_request_free(r);

    seen = {0, 2, 0};
    r = make_request(file(example_image(1)), "Describe the image.", step_by_step());
    EXPECT_EQ(dimple_request_run(r, callback, &seen), DIMPLE_ERROR_CANCELLED);
    const Answer partial = result_of(r);
    EXPECT_EQ(partial.status, DIMPLE_OK);
    EXPECT_EQ(partial.steps, 2);
    EXPECT_FALSE(partial.finished);
    dimple_request_free(r);
}

TEST(CApiRequest, ABatchAnswersAsEachAlone) {
    std::vector<dimple_image> images;
    for (int n = 1; n <= 3; ++n) images.push_back(file(example_image(n)));
    std::vector<dimple_request*> batch;
    for (const dimple_image& im : images) batch.push_back(make_request(im, "Describe the image."));
    int calls = 0;
    auto count = [](const dimple_step* s, void* user) -> int {
        EXPECT_LT(s->request, 3u);
        ++*static_cast<int*>(user);
        return 0;
    };
    ASSERT_EQ(dimple_batch_run(batch.data(), batch.size(), count, &calls), DIMPLE_OK) << dimple_last_error();
    int steps = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        const Answer alone = ask(shipped_model(), images[i], "Describe the image.");
        const Answer together = result_of(batch[i]);
        EXPECT_EQ(together.ids, alone.ids) << i;
        EXPECT_EQ(together.steps, alone.steps) << i;
        steps += together.steps;
        dimple_request_free(batch[i]);
    }
    EXPECT_EQ(calls, steps);
}

TEST(CApiRequest, PixelsFromMemoryAnswerAsTheSameFile) {
    const int w = 96, h = 80;
    std::vector<uint8_t> rgb(size_t(w * h * 3));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const bool square = x > 20 && x < 50 && y > 20 && y < 50;
            uint8_t* p = &rgb[size_t(3 * (y * w + x))];
            p[0] = square ? 220 : 240;
            p[1] = square ? 30 : 240;
            p[2] = square ? 30 : 240;
        }
    const std::string path = dtest::temp_dir() + "/square.bmp";
    write_bmp(path, rgb, w, h);
    const Answer from_file = ask(shipped_model(), file(path.c_str()), "Describe the image.");
    const Answer from_memory = ask(shipped_model(), {nullptr, rgb.data(), w, h}, "Describe the image.");
    ASSERT_EQ(from_memory.status, DIMPLE_OK) << from_memory.error;
    EXPECT_EQ(from_memory.ids, from_file.ids);
    EXPECT_FALSE(from_memory.text.empty());
}

TEST(CApiRequest, ThreadsMayShareAModel) {
    const Answer one = ask(shipped_model(), file(example_image(1)), "Describe the image.");
    const Answer two = ask(shipped_model(), file(example_image(2)), "Describe the image.");
    Answer a, b;
    std::thread t1([&] { a = ask(shipped_model(), file(example_image(1)), "Describe the image."); });
    std::thread t2([&] { b = ask(shipped_model(), file(example_image(2)), "Describe the image."); });
    t1.join();
    t2.join();
    EXPECT_EQ(a.ids, one.ids);
    EXPECT_EQ(b.ids, two.ids);
}

TEST(CApiRequest, BadRequestsAreRefusedWithTheReason) {
    dimple_model* m = shipped_model();
    const dimple_image shapes = file(example_image(1));
    struct Case {
        dimple_image image;
        dimple_decoding_options options;
        dimple_status status;
        std::string message;
    };
    dimple_decoding_options bad_alg = greedy(), too_long = greedy(), bad_layers = greedy(), bad_template = greedy();
    bad_alg.alg = "nope";
    too_long.max_new_tokens = 65;
    bad_layers.skip_layers = "0-999999";
    bad_template.answer_template = "<mask:99>";
    dimple_decoding_options bad_threshold = greedy();
    bad_threshold.threshold = 2;
    dimple_decoding_options bad_dllm = greedy(), dllm_with_prefill = greedy();
    bad_dllm.dllm_cache = "25,7";
    dllm_with_prefill.dllm_cache = "25,7,0.25";  // Dimple's call prefills
    const Case cases[] = {
        {shapes, bad_alg, DIMPLE_ERROR_REFUSED, "nope"},
        {shapes, too_long, DIMPLE_ERROR_REFUSED, "max_answer_tokens"},
        {shapes, bad_threshold, DIMPLE_ERROR_REFUSED, "threshold"},
        {shapes, bad_layers, DIMPLE_ERROR_REFUSED, "999999"},
        {shapes, bad_template, DIMPLE_ERROR_REFUSED, "99"},
        {shapes, bad_dllm, DIMPLE_ERROR_REFUSED, "expected PROMPT_INTERVAL,GEN_INTERVAL,TRANSFER_RATIO"},
        {shapes, dllm_with_prefill, DIMPLE_ERROR_REFUSED, "without prefilling"},
        {file("/nonexistent.png"), greedy(), DIMPLE_ERROR_REFUSED, "/nonexistent.png"},
        {{nullptr, nullptr, 4, 4}, greedy(), DIMPLE_ERROR_INVALID_ARGUMENT, "neither a path nor rgb pixels"},
        {{nullptr, reinterpret_cast<const uint8_t*>("x"), 0, 4}, greedy(), DIMPLE_ERROR_REFUSED, "0x4"},
    };
    for (const Case& c : cases) {
        const Answer a = ask(m, c.image, "Describe the image.", c.options);
        EXPECT_EQ(a.status, c.status) << c.message << ": " << a.error;
        EXPECT_NE(a.error.find(c.message), std::string::npos) << c.message << ": " << a.error;
    }
    // Two images on a model loaded for one; raw ids outside the vocabulary.
    const dimple_image two[] = {shapes, shapes};
    const dimple_message msg{"user", "Compare.", two, 2};
    dimple_request* r = nullptr;
    EXPECT_EQ(dimple_request_create(m, &msg, 1, nullptr, &r), DIMPLE_ERROR_REFUSED);
    EXPECT_NE(std::string(dimple_last_error()).find("2 images"), std::string::npos) << dimple_last_error();
    EXPECT_EQ(r, nullptr);
    const dimple_token ids[] = {1, 2, 9999};
    EXPECT_EQ(dimple_request_create_from_ids(m, ids, 3, nullptr, 0, nullptr, &r), DIMPLE_ERROR_REFUSED);
    EXPECT_NE(std::string(dimple_last_error()).find("9999"), std::string::npos) << dimple_last_error();
    EXPECT_EQ(dimple_request_step(nullptr), DIMPLE_ERROR_INVALID_ARGUMENT);
    dimple_request* none[] = {nullptr};
    EXPECT_EQ(dimple_batch_step(none, 1), DIMPLE_ERROR_INVALID_ARGUMENT);
    // A request twice in one batch is refused before anything runs: both stay usable.
    dimple_request* a = make_request(shapes, "Describe the image.");
    dimple_request* b = make_request(file(example_image(2)), "Describe the image.");
    dimple_request* twice[] = {a, b, a};
    EXPECT_EQ(dimple_batch_run(twice, 3, nullptr, nullptr), DIMPLE_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(dimple_last_error()).find("again"), std::string::npos) << dimple_last_error();
    EXPECT_EQ(dimple_request_run(b, nullptr, nullptr), DIMPLE_OK) << dimple_last_error();
    EXPECT_EQ(result_of(b).ids, ask(m, file(example_image(2)), "Describe the image.").ids);
    dimple_request_free(a);
    dimple_request_free(b);
}
