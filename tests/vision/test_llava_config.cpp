// parse_llava_vision: the tiny LLaDA-V's config.json and tower folder, the forms LLaDA-V's files
// take, and a clear error naming the file and key for every field it cannot run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "llava_cases.h"
#include "testing.h"

using namespace dimple;
using nlohmann::json;

namespace {

namespace fs = std::filesystem;

json committed_config() {
    std::ifstream f(dtest::llava_golden_dir() + "/model/config.json");
    return json::parse(f);
}

// A model folder holding `config` and, when given, a tower folder "tower" with `tower_config`.
std::string model_folder(const json& tower_config = json()) {
    const std::string dir = dtest::temp_dir();
    if (!tower_config.is_null()) {
        fs::create_directories(dir + "/tower");
        std::ofstream(dir + "/tower/config.json") << tower_config.dump();
    }
    return dir;
}

json tiny_tower() {
    std::ifstream f(dtest::llava_golden_dir() + "/siglip-tiny/config.json");
    return json::parse(f);
}

// The message of the Error parse_llava_vision throws for `config` (fails the test if none).
std::string error_of(const json& config, const std::string& dir) {
    try {
        parse_llava_vision(config, dir, "X/config.json");
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for " << config.dump();
    return "";
}

}  // namespace

TEST(LlavaConfig, ReadsTheTinyModel) {
    const LlavaVisionConfig c = dtest::llava_tiny_config();
    EXPECT_EQ(c.lm_hidden_size, 16);
    EXPECT_EQ(c.mm_hidden_size, 32);
    EXPECT_EQ(c.aspect, AspectMode::AnyresMax);
    EXPECT_EQ(c.anyres_max, 4);
    ASSERT_EQ(c.grid_pinpoints.size(), 36u);
    EXPECT_EQ(c.grid_pinpoints[1], std::make_pair(384, 768));  // width factor outer
    EXPECT_EQ(c.grid_pinpoints[6], std::make_pair(768, 384));
    const SiglipConfig& t = c.tower;
    EXPECT_EQ(t.hidden_size, 32);
    EXPECT_EQ(t.intermediate_size, 64);
    EXPECT_EQ(t.num_heads, 2);
    EXPECT_EQ(t.num_hidden_layers, 3);
    EXPECT_EQ(t.patches(), kLlavaPatches);
    EXPECT_EQ(t.layer_norm_eps, 1e-6);
}

TEST(LlavaConfig, PinpointStringExpandsAsTrainPyDoes) {
    json config = committed_config();
    const std::string dir = model_folder(tiny_tower());
    config["mm_vision_tower"] = "tower";  // relative to the model folder
    const LlavaVisionConfig pairs = parse_llava_vision(config, dir, "X");
    config["image_grid_pinpoints"] = "(1x1),...,(6x6)";
    EXPECT_EQ(parse_llava_vision(config, dir, "X").grid_pinpoints, pairs.grid_pinpoints);
    config["image_grid_pinpoints"] = "(1x2),(2x3)";
    const std::vector<std::pair<int, int>> want = {{384, 768}, {384, 1152}, {768, 768}, {768, 1152}};
    EXPECT_EQ(parse_llava_vision(config, dir, "X").grid_pinpoints, want);
}

TEST(LlavaConfig, HubTowerWithoutAFolderTakesTheSo400mSizes) {
    json config = committed_config();
    config["mm_hidden_size"] = 1152;  // the file says "google/siglip2-so400m-patch14-384" as published
    const LlavaVisionConfig c = parse_llava_vision(config, model_folder(), "X");
    EXPECT_EQ(c.tower.hidden_size, 1152);
    EXPECT_EQ(c.tower.intermediate_size, 4304);
    EXPECT_EQ(c.tower.num_heads, 16);
    EXPECT_EQ(c.tower.num_hidden_layers, 27);
    EXPECT_EQ(c.tower.hidden_act, "gelu_pytorch_tanh");
}

TEST(LlavaConfig, TowerConfigMayNestVisionConfig) {
    json config = committed_config();
    const std::string dir = model_folder(json{{"model_type", "siglip"}, {"vision_config", tiny_tower()}});
    config["mm_vision_tower"] = dir + "/tower";  // absolute
    EXPECT_EQ(parse_llava_vision(config, "/nonexistent", "X").tower.num_hidden_layers, 3);
}

TEST(LlavaConfig, PadMode) {
    json config = committed_config();
    config["image_aspect_ratio"] = "pad";
    config["mm_vision_tower"] = dtest::llava_golden_dir() + "/siglip-tiny";
    EXPECT_EQ(parse_llava_vision(config, "/", "X").aspect, AspectMode::Pad);
}

// Each bad field: an Error naming the file and the key (or the value) at fault.
TEST(LlavaConfig, BadFieldsAreClearErrors) {
    const std::string dir = model_folder(tiny_tower());
    json base = committed_config();
    base["mm_vision_tower"] = "tower";
    struct Case {
        std::function<void(json&)> edit;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {[](json& c) { c["mm_projector_type"] = "linear"; }, "mm_projector_type \"linear\" is not supported"},
        {[](json& c) { c["mm_patch_merge_type"] = "flat"; }, "mm_patch_merge_type \"flat\""},
        {[](json& c) { c["mm_patch_merge_type"] = "spatial_nobase_unpad"; }, "mm_patch_merge_type \"spatial_nobase_unpad\""},
        {[](json& c) { c["mm_patch_merge_type"] = "_nobase"; }, "mm_patch_merge_type \"_nobase\""},
        {[](json& c) { c["image_aspect_ratio"] = "anyres"; }, "image_aspect_ratio \"anyres\""},
        {[](json& c) { c["image_aspect_ratio"] = "anyres_max_0"; }, "image_aspect_ratio \"anyres_max_0\""},
        {[](json& c) { c["image_aspect_ratio"] = "anyres_max_4x"; }, "image_aspect_ratio \"anyres_max_4x\""},
        {[](json& c) { c["image_aspect_ratio"] = 4; }, "field \"image_aspect_ratio\" must be a string"},
        {[](json& c) { c.erase("image_grid_pinpoints"); }, "missing required field \"image_grid_pinpoints\""},
        {[](json& c) { c["image_grid_pinpoints"] = json::array({{384, 500}}); }, "384x500 is not a positive multiple"},
        {[](json& c) { c["image_grid_pinpoints"] = json::array({384, 768}); }, "[width, height] integer pairs"},
        {[](json& c) { c["image_grid_pinpoints"] = "[(384, 768)]"; }, "neither a list of [width, height] pairs"},
        {[](json& c) { c["image_grid_pinpoints"] = "(12345x1)"; }, "neither a list of [width, height] pairs"},
        {[](json& c) { c["image_grid_pinpoints"] = "(0x1),(2x2)"; }, "starts at an empty grid"},
        {[](json& c) { c["image_grid_pinpoints"] = "(3x3),(1x1)"; }, "lists no resolution"},
        {[](json& c) { c["mm_hidden_size"] = 48; }, "mm_hidden_size 48 differs from the vision tower's hidden_size 32"},
        {[](json& c) { c.erase("mm_hidden_size"); }, "missing required field \"mm_hidden_size\""},
        {[](json& c) { c["hidden_size"] = "16"; }, "field \"hidden_size\" must be an integer"},
        {[](json& c) { c.erase("mm_vision_tower"); }, "missing required field \"mm_vision_tower\""},
        {[](json& c) { c["mm_vision_tower"] = "google/siglip-base-patch16-224"; }, "set mm_vision_tower to that folder"},
    };
    for (const Case& c : cases) {
        json config = base;
        c.edit(config);
        const std::string msg = error_of(config, dir);
        EXPECT_NE(msg.find("X/config.json"), std::string::npos) << msg;
        EXPECT_NE(msg.find(c.expect), std::string::npos) << "want \"" << c.expect << "\" in: " << msg;
    }
}

TEST(LlavaConfig, BadTowerFieldsNameTheTowerFile) {
    json config = committed_config();
    config["mm_vision_tower"] = "tower";
    const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
        {[](json& t) { t["image_size"] = 336; }, "image_size 336 / patch_size 14 is not supported"},
        {[](json& t) { t["patch_size"] = 16; }, "patch_size 16 is not supported"},
        {[](json& t) { t["hidden_act"] = "gelu"; }, "hidden_act \"gelu\" is not supported"},
        {[](json& t) { t["num_attention_heads"] = 3; }, "not divisible by num_attention_heads 3"},
        {[](json& t) { t["num_hidden_layers"] = 1; }, "leaves no layer"},
        {[](json& t) { t["num_channels"] = 4; }, "field \"num_channels\" = 4 is out of range"},
        {[](json& t) { t["layer_norm_eps"] = "small"; }, "field \"layer_norm_eps\" must be a number"},
    };
    for (const auto& [edit, expect] : cases) {
        json tower = tiny_tower();
        edit(tower);
        const std::string dir = model_folder(tower);
        const std::string msg = error_of(config, dir);
        EXPECT_NE(msg.find(dir + "/tower/config.json"), std::string::npos) << msg;
        EXPECT_NE(msg.find(expect), std::string::npos) << "want \"" << expect << "\" in: " << msg;
    }
    const std::string dir = model_folder(json());
    fs::create_directories(dir + "/tower");
    std::ofstream(dir + "/tower/config.json") << "{ not json";
    EXPECT_NE(error_of(config, dir).find("not valid JSON"), std::string::npos);
}
