// The C API's models and text calls (include/dimple.h), through libdimple.so.
#include <gtest/gtest.h>

#include <cstring>

#include "c_api_fixture.h"
#include "io/npy.h"
#include "testing.h"

using namespace capi;

TEST(CApi, VersionAndStatusNames) {
    EXPECT_EQ(dimple_api_version(), DIMPLE_API_VERSION);
    EXPECT_STREQ(dimple_version(), "0.1.0");
    EXPECT_STREQ(dimple_status_name(DIMPLE_ERROR_BUFFER_TOO_SMALL), "buffer too small");
}

TEST(CApi, LoadFailuresSayWhy) {
    dimple_model* m = reinterpret_cast<dimple_model*>(1);
    EXPECT_EQ(dimple_model_load("/nonexistent/model", nullptr, &m), DIMPLE_ERROR_REFUSED);
    EXPECT_EQ(m, nullptr);
    EXPECT_NE(std::string(dimple_last_error()).find("/nonexistent/model"), std::string::npos) << dimple_last_error();

    EXPECT_EQ(dimple_model_load(nullptr, nullptr, &m), DIMPLE_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(dimple_model_load("x", nullptr, nullptr), DIMPLE_ERROR_INVALID_ARGUMENT);

    const std::string dir = dtest::source_dir() + "/models/dimple-shapes";
    dimple_model_options o{};  // never initialised: its size is 0
    EXPECT_EQ(dimple_model_load(dir.c_str(), &o, &m), DIMPLE_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(dimple_last_error()).find("dimple_model_options_init"), std::string::npos);

    dimple_model_options_init(&o);
    o.compute = "f16";
    EXPECT_EQ(dimple_model_load(dir.c_str(), &o, &m), DIMPLE_ERROR_REFUSED);
    EXPECT_NE(std::string(dimple_last_error()).find("f16"), std::string::npos) << dimple_last_error();
    // An older caller's smaller struct: the fields it lacks keep their defaults.
    dimple_model_options_init(&o);
    o.compute = "f32";
    o.size = offsetof(dimple_model_options, chat_template);
    ASSERT_EQ(dimple_model_load(dir.c_str(), &o, &m), DIMPLE_OK) << dimple_last_error();
    dimple_model_free(m);
}

TEST(CApi, ModelFacts) {
    dimple_model_info info;
    dimple_model_info_init(&info);
    ASSERT_EQ(dimple_model_get_info(shipped_model(), &info), DIMPLE_OK);
    EXPECT_STREQ(info.family, "dimple");
    EXPECT_STREQ(info.compute, "f32");
    EXPECT_EQ(info.vocab_size, 456);
    EXPECT_EQ(info.num_layers, 3);
    EXPECT_EQ(info.has_vision, 1);
    EXPECT_EQ(info.has_tokenizer, 1);
    EXPECT_EQ(info.mask_id, 455);
    EXPECT_EQ(info.eos_id, 434);
    EXPECT_EQ(info.image_id, 444);
    dimple_model_info old{};
    old.size = offsetof(dimple_model_info, vocab_size);  // an older caller: nothing written past its size
    ASSERT_EQ(dimple_model_get_info(shipped_model(), &old), DIMPLE_OK);
    EXPECT_EQ(old.vocab_size, 0);
    EXPECT_STREQ(old.family, "dimple");
}

TEST(CApi, TokenizeAndDetokenizeRoundTrip) {
    const char* text = "How many shapes are there?";
    size_t n = 0;
    EXPECT_EQ(dimple_tokenize(shipped_model(), text, nullptr, 0, &n), DIMPLE_ERROR_BUFFER_TOO_SMALL);
    ASSERT_GT(n, 3u);
    std::vector<dimple_token> ids(n);
    ASSERT_EQ(dimple_tokenize(shipped_model(), text, ids.data(), ids.size(), &n), DIMPLE_OK);
    EXPECT_EQ(n, ids.size());
    // The same ids as `dimple tokenize`.
    const auto cli = dtest::run_cli("tokenize --model " + dtest::source_dir() + "/models/dimple-shapes --text '" +
                                    text + "'");
    ASSERT_EQ(cli.exit_code, 0) << cli.out;
    std::string json = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) json += ',';
        json += std::to_string(ids[i]);
    }
    EXPECT_EQ(cli.out.substr(0, json.size() + 1), json + "]") << cli.out;

    char out[64];
    size_t len = 0;
    ASSERT_EQ(dimple_detokenize(shipped_model(), ids.data(), ids.size(), 0, out, sizeof out, &len), DIMPLE_OK);
    EXPECT_STREQ(out, text);
    EXPECT_EQ(len, std::strlen(text));
    EXPECT_EQ(dimple_detokenize(shipped_model(), ids.data(), ids.size(), 0, out, len, &len), DIMPLE_ERROR_BUFFER_TOO_SMALL)
        << "the NUL needs room too";
    const dimple_token special[] = {434, 432};  // eos, pad
    ASSERT_EQ(dimple_detokenize(shipped_model(), special, 2, 1, out, sizeof out, &len), DIMPLE_OK);
    EXPECT_EQ(len, 0u);
}

TEST(CApi, ChatTemplatePlacesTheImageBeforeTheText) {
    const dimple_image image{"unused.png", nullptr, 0, 0};
    const dimple_message msg{"user", "What is it?", &image, 1};
    char text[1024];
    size_t len = 0;
    ASSERT_EQ(dimple_apply_chat_template(shipped_model(), &msg, 1, text, sizeof text, &len), DIMPLE_OK);
    const std::string s(text, len);
    EXPECT_NE(s.find("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is it?<|im_end|>"),
              std::string::npos) << s;
    EXPECT_EQ(s.substr(s.size() - 22), "<|im_start|>assistant\n");
    const dimple_message robot{"robot", "hi", nullptr, 0};
    EXPECT_EQ(dimple_apply_chat_template(shipped_model(), &robot, 1, text, sizeof text, &len), DIMPLE_ERROR_REFUSED);
    EXPECT_NE(std::string(dimple_last_error()).find("robot"), std::string::npos);
}

// One bidirectional pass: the original's logits for the tiny-a golden prompt (f32; the tolerance
// of the forward command's test).
TEST(CApi, ForwardGivesTheGoldenLogits) {
    dimple_model_options o;
    dimple_model_options_init(&o);
    o.compute = "f32";
    dimple_model* m = nullptr;
    ASSERT_EQ(dimple_model_load((dtest::golden_dir() + "/model").c_str(), &o, &m), DIMPLE_OK) << dimple_last_error();
    const dimple::Tensor ids = dimple::read_npy(dtest::golden_dir() + "/batch_input_ids.npy");
    const dimple::Tensor golden = dimple::read_npy(dtest::golden_dir() + "/batch_logits.npy");
    const int64_t L = ids.dim(1), V = golden.dim(2);
    std::vector<dimple_token> row(ids.data<int64_t>(), ids.data<int64_t>() + L);  // row 0: no padding
    size_t count = 0;
    EXPECT_EQ(dimple_forward(m, row.data(), row.size(), nullptr, 0, &count), DIMPLE_ERROR_BUFFER_TOO_SMALL);
    EXPECT_EQ(count, size_t(L * V));
    dimple::Tensor logits = dimple::Tensor::f32({1, L, V});
    ASSERT_EQ(dimple_forward(m, row.data(), row.size(), logits.data<float>(), size_t(L * V), &count), DIMPLE_OK)
        << dimple_last_error();
    dimple::Tensor expected = dimple::Tensor::f32({1, L, V});
    std::memcpy(expected.data<float>(), golden.data<float>(), size_t(L * V) * sizeof(float));
    EXPECT_TRUE(dtest::all_close(logits, expected, 1e-3, 1e-4));
    row[3] = V + 7;
    EXPECT_EQ(dimple_forward(m, row.data(), row.size(), logits.data<float>(), size_t(L * V), &count),
              DIMPLE_ERROR_REFUSED);
    EXPECT_NE(std::string(dimple_last_error()).find("outside the vocabulary"), std::string::npos);
    dimple_model_free(m);
}
