#include "llava_cases.h"

#include <cstdio>
#include <fstream>

#include "io/npy.h"
#include "testing.h"
#include "vision/anyres.h"

namespace dtest {

using namespace dimple;

std::string llava_golden_dir() { return source_dir() + "/tests/goldens/llada-v-tiny"; }

Tensor llava_golden(const std::string& name) { return read_npy(llava_golden_dir() + "/" + name + ".npy"); }

static nlohmann::json read_json(const std::string& path) {
    std::ifstream f(path);
    if (!f.good()) throw std::runtime_error(path + ": cannot read");
    return nlohmann::json::parse(f);
}

const nlohmann::json& llava_cases() {
    static const nlohmann::json cases = read_json(llava_golden_dir() + "/vision.json")["cases"];
    return cases;
}

std::vector<std::string> llava_case_names() {
    std::vector<std::string> names;
    for (auto& [name, c] : llava_cases().items()) names.push_back(name);
    return names;
}

// synthetic(w, h) of make_llada_v_goldens.py: R = (3x + 5y) mod 256, G = 7 (x xor y) mod 256,
// B = floor(xy / 64) mod 256.
static Image synthetic(int w, int h) {
    Image img = Image::blank(w, h);
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            uint8_t* p = &img.rgb[size_t((y * w + x) * 3)];
            p[0] = uint8_t((3 * x + 5 * y) % 256);
            p[1] = uint8_t((7 * (x ^ y)) % 256);
            p[2] = uint8_t((x * y / 64) % 256);
        }
    return img;
}

Image llava_case_image(const std::string& name) {
    const std::string source = llava_cases().at(name).at("source").get<std::string>();
    int w = 0, h = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    if (std::sscanf(source.c_str(), "synthetic(%d, %d)", &w, &h) == 2) return synthetic(w, h);
    if (std::sscanf(source.c_str(), "photo1 .crop((%d, %d, %d, %d))", &x0, &y0, &x1, &y1) == 4)
        return crop_image(load_image(images_dir() + "/1_resize.jpg"), x0, y0, x1 - x0, y1 - y0);
    // "tests/data/images/<file>, convert('RGB')...": load_image drops alpha as convert("RGB") does.
    const std::string prefix = "tests/data/images/";
    if (source.rfind(prefix, 0) == 0)
        return load_image(images_dir() + "/" + source.substr(prefix.size(), source.find(',') - prefix.size()));
    throw std::runtime_error("unknown case source: " + source);
}

LlavaVisionConfig llava_tiny_config() {
    const std::string dir = llava_golden_dir() + "/model";
    nlohmann::json config = read_json(dir + "/config.json");
    config["mm_vision_tower"] = llava_golden_dir() + "/siglip-tiny";
    return parse_llava_vision(config, dir, dir + "/config.json");
}

}  // namespace dtest
