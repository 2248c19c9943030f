#include "io/llava_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <cctype>

#include "core/error.h"
#include "io/config.h"
#include "io/json_fields.h"

namespace dimple {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kMaxDim = 1 << 20;

// The published google/siglip(2)-so400m-patch14-384 sizes, which are also the class defaults of
// the original's SigLipVisionConfig (a tower config.json that leaves a key out gets these).
SiglipConfig so400m() {
    SiglipConfig t;
    t.hidden_size = 1152;
    t.intermediate_size = 4304;
    t.num_heads = 16;
    t.num_hidden_layers = 27;
    return t;
}

SiglipConfig parse_tower(const json& file, const std::string& path) {
    // A SigLIP text+vision config holds the tower in "vision_config"; a vision-only one at the top.
    const bool nested = file.contains("vision_config") && file["vision_config"].is_object();
    const Fields f{nested ? file["vision_config"] : file, nested ? path + " (vision_config)" : path};
    SiglipConfig t = so400m();
    t.hidden_size = int(f.integer_or("hidden_size", t.hidden_size, 1, kMaxDim));
    t.intermediate_size = int(f.integer_or("intermediate_size", t.intermediate_size, 1, kMaxDim));
    t.num_heads = int(f.integer_or("num_attention_heads", t.num_heads, 1, 4096));
    t.num_hidden_layers = int(f.integer_or("num_hidden_layers", t.num_hidden_layers, 1, 1024));
    t.image_size = int(f.integer_or("image_size", t.image_size, 1, 1 << 16));
    t.patch_size = int(f.integer_or("patch_size", t.patch_size, 1, 1 << 16));
    t.layer_norm_eps = f.number_or("layer_norm_eps", t.layer_norm_eps, 0, 1);
    t.hidden_act = f.string_or("hidden_act", t.hidden_act);
    f.integer_or("num_channels", 3, 3, 3);
    check(t.hidden_size % t.num_heads == 0, f.label, ": hidden_size ", t.hidden_size,
          " is not divisible by num_attention_heads ", t.num_heads);
    check(t.hidden_act == "gelu_pytorch_tanh", f.label, ": hidden_act \"", t.hidden_act,
          "\" is not supported (SigLIP uses gelu_pytorch_tanh)");
    check(t.num_hidden_layers >= 2, f.label, ": num_hidden_layers ", t.num_hidden_layers,
          " leaves no layer once LLaDA-V drops the last one");
    // The original crops at 384 and lays out 27 x 27 patches whatever the tower says (V2), and
    // asserts that the tower gives 729: only a 384/14 tower runs there.
    check(t.image_size == kLlavaCropSize && t.patch_size == 14, f.label, ": image_size ", t.image_size,
          " / patch_size ", t.patch_size, " is not supported: LLaDA-V's code fixes 384-pixel crops of ",
          kLlavaPatchesPerSide, " x ", kLlavaPatchesPerSide, " patches (image_size 384, patch_size 14)");
    return t;
}

// mm_vision_tower: a folder holding the tower's config.json, or the hub tower LLaDA-V names.
SiglipConfig tower_config(const std::string& name, const std::string& model_dir, const std::string& label) {
    const fs::path dir = fs::path(name).is_absolute() ? fs::path(name) : fs::path(model_dir) / name;
    const fs::path file = dir / "config.json";
    if (fs::is_regular_file(file))
        return parse_tower(parse_json_object(read_text_file(file.string()), file.string()), file.string());
    const bool so400m_hub = name.find("siglip") != std::string::npos &&
                            name.find("so400m-patch14-384") != std::string::npos;
    if (so400m_hub) return so400m();
    fail(label, ": mm_vision_tower \"", name, "\" is neither a folder with a config.json (looked for ",
         file.string(), ") nor a known SigLIP so400m-patch14-384 tower: put the tower's config.json in a "
         "folder and set mm_vision_tower to that folder (absolute, or relative to the model folder)");
}

// Reads 1 to 4 decimal digits of `s` at `pos` (advanced past them); false when there are none or more.
bool read_number(const std::string& s, size_t& pos, int& value) {
    const size_t start = pos;
    value = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 5)
        value = value * 10 + (s[pos++] - '0');
    return pos > start && pos - start <= 4;
}

// The "(AxB)" groups of `s` in order, as the original's re.findall(r"\((\d+)x(\d+)\)") finds them.
std::vector<std::pair<int, int>> grid_groups(const std::string& s) {
    std::vector<std::pair<int, int>> out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '(') continue;
        size_t pos = i + 1;
        int a = 0, b = 0;
        if (read_number(s, pos, a) && pos < s.size() && s[pos] == 'x' && read_number(s, ++pos, b) && pos < s.size() &&
            s[pos] == ')')
            out.emplace_back(a, b);
    }
    return out;
}

// image_grid_pinpoints: the list of [width, height] pairs config.json normally holds, or the
// "(1x1),...,(6x6)" form that train.py expands before saving (the same expansion: first to last
// pair, width factor outer, each factor times the crop size).
std::vector<std::pair<int, int>> parse_pinpoints(const Fields& f) {
    const char* key = "image_grid_pinpoints";
    check(f.has(key), f.label, ": missing required field \"", key, "\" (anyres needs the candidate resolutions)");
    const json& v = f.j[key];
    std::vector<std::pair<int, int>> out;
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        const std::vector<std::pair<int, int>> groups = grid_groups(s);
        check(!groups.empty(), f.label, ": field \"", key, "\" = \"", s,
              "\" is neither a list of [width, height] pairs nor of the form \"(1x1),...,(6x6)\"");
        const auto [w0, h0] = groups.front();
        const auto [w1, h1] = groups.back();
        check(w0 > 0 && h0 > 0, f.label, ": field \"", key, "\" = \"", s, "\" starts at an empty grid");
        for (int i = w0; i <= w1; ++i)
            for (int j = h0; j <= h1; ++j) out.emplace_back(i * kLlavaCropSize, j * kLlavaCropSize);
    } else {
        check(v.is_array(), f.label, ": field \"", key, "\" must be a list of [width, height] pairs");
        for (const json& p : v) {
            const bool ok = p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer();
            check(ok, f.label, ": field \"", key, "\" must be a list of [width, height] integer pairs, got ", p.dump());
            const int64_t w = p[0].get<int64_t>(), h = p[1].get<int64_t>();
            const bool tiles = w > 0 && h > 0 && w <= kMaxDim && h <= kMaxDim && w % kLlavaCropSize == 0 &&
                               h % kLlavaCropSize == 0;
            check(tiles, f.label, ": field \"", key, "\": resolution ", w, "x", h,
                  " is not a positive multiple of the ", kLlavaCropSize, "-pixel crop");
            out.emplace_back(int(w), int(h));
        }
    }
    check(!out.empty(), f.label, ": field \"", key, "\" lists no resolution");
    return out;
}

}  // namespace

LlavaVisionConfig parse_llava_vision(const json& config_json, const std::string& model_dir,
                                     const std::string& label) {
    const Fields f{config_json, label};
    LlavaVisionConfig c;
    c.lm_hidden_size = int(f.integer("hidden_size", 1, kMaxDim));
    c.mm_hidden_size = int(f.integer("mm_hidden_size", 1, kMaxDim));
    const std::string projector = f.string_or("mm_projector_type", "linear");
    check(projector == "mlp2x_gelu", label, ": mm_projector_type \"", projector,
          "\" is not supported (LLaDA-V uses mlp2x_gelu)");
    const std::string merge = f.string_or("mm_patch_merge_type", "flat");
    const std::string nobase = "_nobase";
    c.base_view = !(merge.size() > nobase.size() && merge.compare(merge.size() - nobase.size(), nobase.size(), nobase) == 0);
    const std::string tiles = c.base_view ? merge : merge.substr(0, merge.size() - nobase.size());
    if (tiles == "spatial_unpad") c.merge = TileMerge::Unpad;
    else if (tiles == "spatial_maxpool2x2") c.merge = TileMerge::Maxpool2x2;
    else if (tiles == "spatial") c.merge = TileMerge::Raster;
    else fail(label, ": mm_patch_merge_type \"", merge, "\" is not supported (expected spatial_unpad, as LLaDA-V "
              "uses, spatial_maxpool2x2 or spatial, each optionally with _nobase)");

    const std::string aspect = f.string_or("image_aspect_ratio", "square");
    const std::string prefix = "anyres_max_";
    size_t pos = prefix.size();
    int max_tiles = 0;
    if (aspect.rfind(prefix, 0) == 0 && read_number(aspect, pos, max_tiles) && pos == aspect.size() && max_tiles > 0) {
        c.aspect = AspectMode::AnyresMax;
        c.anyres_max = max_tiles;
        c.grid_pinpoints = parse_pinpoints(f);
    } else if (aspect == "pad") {
        c.aspect = AspectMode::Pad;
    } else {
        fail(label, ": image_aspect_ratio \"", aspect, "\" is not supported (expected \"anyres_max_N\", N >= 1, "
             "as LLaDA-V uses, or \"pad\")");
    }

    check(f.has("mm_vision_tower") && config_json["mm_vision_tower"].is_string(), label,
          ": missing required field \"mm_vision_tower\" (the SigLIP tower's folder or hub name)");
    c.tower_name = f.string_or("mm_vision_tower", "");
    c.tower = tower_config(c.tower_name, model_dir, label);
    check(c.mm_hidden_size == c.tower.hidden_size, label, ": mm_hidden_size ", c.mm_hidden_size,
          " differs from the vision tower's hidden_size ", c.tower.hidden_size, " (", c.tower_name, ")");
    return c;
}

std::string siglip_layer_prefix(int layer) {
    return std::string(kSiglipPrefix) + "encoder.layers." + std::to_string(layer) + ".";
}

int llava_tower_layers(const Checkpoint& ck, const LlavaVisionConfig& config) {
    int n = 0;
    while (ck.has(siglip_layer_prefix(n) + "layer_norm1.weight")) ++n;
    const int expected = config.tower.num_hidden_layers - 1;
    check(n == expected, ck.dir(), ": the checkpoint holds ", n, " vision tower layers (",
          siglip_layer_prefix(0), "...), but the tower config says num_hidden_layers ",
          config.tower.num_hidden_layers, " and LLaDA-V keeps all but the last: ", expected, " expected");
    return n;
}

}  // namespace dimple
