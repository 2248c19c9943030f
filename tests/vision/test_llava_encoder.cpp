// LLaDA-V's vision path on the tiny LLaDA-V against the original code's intermediates (tests/goldens/
// llada-v-tiny): SigLIP hidden states, projected crops, the feature map before unpad_image and after
// the anyres_max downscale, and the image rows of all 18 images. The model is rebuilt by
// tools/make_test_goldens.sh into <reference goldens>/llada-v-tiny/model; THAT SCRIPT points the
// rebuilt config.json's mm_vision_tower at the committed tests/goldens/llada-v-tiny/siglip-tiny (the
// published file names the hub tower), so the test loads the folder as the engine would.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/config.h"
#include "io/npy.h"
#include "llava_cases.h"
#include "model/llava_parameters.h"
#include "testing.h"
#include "vision/llava_encoder.h"

using namespace dimple;

namespace {

namespace fs = std::filesystem;

std::string model_dir() { return dtest::reference_goldens_dir() + "/llada-v-tiny/model"; }

// The goldens README's recommendation for vision arrays: |engine - golden| <= 1e-4 + 1e-4 |golden|
// (the original's own float32 vs float64 error is <= 2.1e-5 on them).
constexpr double kAtol = 1e-4, kRtol = 1e-4;

struct Loaded {
    Checkpoint ck;
    LlavaVisionConfig config;
    int64_t lm_hidden;
};

const Loaded& tiny() {
    static const Loaded l = [] {
        const std::string dir = model_dir();
        const nlohmann::json j = nlohmann::json::parse(read_text_file(dir + "/config.json"));
        return Loaded{Checkpoint(dir), parse_llava_vision(j, dir, dir + "/config.json"), j["hidden_size"].get<int64_t>()};
    }();
    return l;
}

const LlavaVisionEncoder& encoder(Compute compute) {
    static std::map<Compute, LlavaVisionEncoder> encoders;
    auto it = encoders.find(compute);
    if (it == encoders.end())
        it = encoders.emplace(compute, LlavaVisionEncoder(tiny().ck, tiny().config, tiny().lm_hidden, compute)).first;
    return it->second;
}

// [h, w, C] -> [C, h, w], the original's layout of the maps.
Tensor chw(const Tensor& hwc) {
    const int64_t h = hwc.dim(0), w = hwc.dim(1), c = hwc.dim(2);
    Tensor out = Tensor::f32({c, h, w});
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int64_t k = 0; k < c; ++k) out.data<float>()[(k * h + y) * w + x] = hwc.data<float>()[(y * w + x) * c + k];
    return out;
}

// Rows 0, k, 2k, ...
Tensor every(const Tensor& rows, int64_t k) {
    Tensor out = Tensor::f32({(rows.dim(0) + k - 1) / k, rows.dim(1)});
    for (int64_t r = 0; r < out.dim(0); ++r)
        std::memcpy(out.row(r), rows.row(r * k), size_t(rows.dim(1)) * sizeof(float));
    return out;
}

// Checks and prints the error, so that reported figures can be re-measured.
void expect_close(const std::string& what, const Tensor& got, const Tensor& want, double atol = kAtol,
                  double rtol = kRtol) {
    EXPECT_TRUE(dtest::all_close(got, want, atol, rtol)) << what;
    if (got.shape() == want.shape())
        std::printf("  %-40s max|err| %.3g\n", what.c_str(), dtest::max_abs_diff(got, want));
}

class LlavaEncoder : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(model_dir() + "/config.json"))
            GTEST_FAIL() << model_dir() << " is missing (tools/make_test_goldens.sh rebuilds it)";
    }
};

}  // namespace

TEST_F(LlavaEncoder, TowerHiddenStatesPhoto3) {
    LlavaVisionTrace trace;
    encoder(Compute::F32).encode(dtest::llava_case_image("photo3"), &trace);
    ASSERT_EQ(trace.tower_hidden.size(), 3u);  // embeddings, layer 0, layer 1 (= the feature)
    EXPECT_EQ(encoder(Compute::F32).tower_layers(), 2);
    for (size_t i = 0; i < 3; ++i)
        expect_close("photo3 tower_hidden" + std::to_string(i), trace.tower_hidden[i],
                     dtest::llava_golden("photo3_tower_hidden" + std::to_string(i)));
}

TEST_F(LlavaEncoder, ProjectedMapsAndRowsOfTheFullCases) {
    for (const std::string name : {"photo1", "photo3", "syn1024x768"}) {
        LlavaVisionTrace trace;
        const Tensor rows = encoder(Compute::F32).encode(dtest::llava_case_image(name), &trace);
        if (name != "syn1024x768") expect_close(name + " projected", trace.projected, dtest::llava_golden(name + "_projected"));
        expect_close(name + " map_before_unpad", chw(trace.layout.map_before_unpad),
                     dtest::llava_golden(name + "_map_before_unpad"));
        if (name == "syn1024x768")
            expect_close(name + " map_after_interpolate", chw(trace.layout.map_after_interpolate),
                         dtest::llava_golden(name + "_map_after_interpolate"));
        expect_close(name + " image_rows", rows, dtest::llava_golden(name + "_image_rows"));
    }
}

// Rows 0, 8, 16, ... of every case's image rows, and their count.
TEST_F(LlavaEncoder, ImageRowsOfAllCases) {
    for (const std::string& name : dtest::llava_case_names()) {
        const Image image = dtest::llava_case_image(name);
        const Tensor rows = encoder(Compute::F32).encode(image);
        EXPECT_EQ(rows.dim(0), dtest::llava_cases()[name]["n_image_rows"].get<int64_t>()) << name;
        EXPECT_EQ(rows.dim(0), encoder(Compute::F32).rows_for(image.width, image.height)) << name;
        expect_close(name + " image_rows_every8", every(rows, 8), dtest::llava_golden(name + "_image_rows_every8"));
    }
}

// The original's other merges (merges/, tools/llada/make_llada_v_merge_goldens.py): the tile map
// max-pooled 2x2 or as it is, with or without the base view, and "pad" without a newline; the
// config.json read as the engine reads it, with those two fields changed.
TEST_F(LlavaEncoder, OtherMergesMatchTheOriginal) {
    const std::string gold = dtest::llava_golden_dir() + "/merges";
    const nlohmann::json merges = nlohmann::json::parse(read_text_file(gold + "/merges.json"));
    ASSERT_EQ(merges["variants"].size(), 6u);
    for (const auto& [key, v] : merges["variants"].items()) {
        nlohmann::json j = nlohmann::json::parse(read_text_file(model_dir() + "/config.json"));
        j["image_aspect_ratio"] = v["image_aspect_ratio"];
        j["mm_patch_merge_type"] = v["mm_patch_merge_type"];
        const LlavaVisionEncoder enc(tiny().ck, parse_llava_vision(j, model_dir(), key), tiny().lm_hidden, Compute::F32);
        for (const auto& [name, c] : v["cases"].items()) {
            const Image image = dtest::llava_case_image(name);
            const Tensor rows = enc.encode(image);
            EXPECT_EQ(rows.dim(0), c["n_image_rows"].get<int64_t>()) << key << " " << name;
            EXPECT_EQ(enc.rows_for(image.width, image.height), c["n_image_rows"].get<int64_t>()) << key << " " << name;
            expect_close(key + " " + name, every(rows, c["stored_every"].get<int64_t>()),
                         read_npy(gold + "/" + key + "-" + name + ".npy"));
        }
    }
}

// bf16 and int8 products: looser bounds (measured errors printed), the same rows.
TEST_F(LlavaEncoder, ReducedPrecisionComputeModes) {
    const Image image = dtest::llava_case_image("syn1024x768");
    const Tensor want = dtest::llava_golden("syn1024x768_image_rows");
    for (const auto& [compute, atol] : {std::pair{Compute::BF16, 0.1}, std::pair{Compute::Int8, 0.1}})
        expect_close("syn1024x768 image_rows " + compute_name(compute), encoder(compute).encode(image), want, atol, 0.05);
}

TEST_F(LlavaEncoder, ParameterListMatchesTheCheckpoint) {
    const std::vector<ParameterSpec> specs = llava_vision_parameters(tiny().config, tiny().lm_hidden, 2);
    size_t vision_tensors = 0;
    for (const Checkpoint::Item& item : tiny().ck.items())
        if (item.name.rfind("model.vision_tower.", 0) == 0 || item.name.rfind("model.mm_projector.", 0) == 0 ||
            item.name == kImageNewline)
            ++vision_tensors;
    EXPECT_EQ(specs.size(), vision_tensors);
    for (const ParameterSpec& s : specs) {
        ASSERT_TRUE(tiny().ck.has(s.name)) << s.name;
        EXPECT_NO_THROW(tiny().ck.get(s.name, s.shape)) << s.name;
    }
}

namespace {

// A copy of the tiny model folder whose index leaves out the tensors `drop` accepts.
std::string folder_without(const std::function<bool(const std::string&)>& drop) {
    const std::string dir = dtest::temp_dir();
    for (const auto& e : fs::directory_iterator(model_dir()))
        if (e.path().filename() != "model.safetensors.index.json")
            fs::create_symlink(fs::canonical(e.path()), dir + "/" + e.path().filename().string());
    nlohmann::json index = nlohmann::json::parse(read_text_file(model_dir() + "/model.safetensors.index.json"));
    nlohmann::json kept = nlohmann::json::object();
    for (auto& [name, file] : index["weight_map"].items())
        if (!drop(name)) kept[name] = file;
    index["weight_map"] = kept;
    std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
    return dir;
}

std::string load_error(const std::string& dir) {
    try {
        LlavaVisionEncoder(Checkpoint(dir), tiny().config, tiny().lm_hidden, Compute::F32);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_F(LlavaEncoder, MissingTensorsAreClearErrors) {
    const std::string newline = load_error(folder_without([](const std::string& n) { return n == kImageNewline; }));
    EXPECT_NE(newline.find(kImageNewline), std::string::npos) << newline;
    const std::string fc2 = siglip_layer_prefix(0) + "mlp.fc2.bias";
    const std::string bias = load_error(folder_without([&](const std::string& n) { return n == fc2; }));
    EXPECT_NE(bias.find(fc2), std::string::npos) << bias;
    const std::string layer = load_error(
        folder_without([](const std::string& n) { return n.rfind(siglip_layer_prefix(1), 0) == 0; }));
    EXPECT_NE(layer.find("holds 1 vision tower layers"), std::string::npos) << layer;
    EXPECT_NE(layer.find("2 expected"), std::string::npos) << layer;
}

TEST_F(LlavaEncoder, WrongLanguageModelWidthIsAnError) {
    const std::string msg = [] {
        try {
            LlavaVisionEncoder(tiny().ck, tiny().config, 24, Compute::F32);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    }();
    EXPECT_NE(msg.find("model.mm_projector.0"), std::string::npos) << msg;
}
