#include "model/synthetic.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "io/config.h"
#include "io/safetensors.h"
#include "model/parameters.h"

namespace dimple {

namespace fs = std::filesystem;

void write_synthetic_checkpoint(const std::string& dir, const std::string& config_json,
                                const SyntheticOptions& opt) {
    const ModelConfig cfg = parse_model_config(config_json, "synthetic config");
    fs::create_directories(dir);
    std::ofstream(fs::path(dir) / "config.json") << config_json;
    nlohmann::json gen = {{"bos_token_id", cfg.ids.bos}, {"eos_token_id", cfg.ids.eos},
                          {"pad_token_id", cfg.ids.pad}, {"mask_token_id", cfg.ids.mask}};
    std::ofstream(fs::path(dir) / "generation_config.json") << gen.dump(2);

    const auto params = expected_parameters(cfg);
    const int shards = std::max(1, opt.shards);
    std::mt19937 rng(opt.seed);
    std::normal_distribution<float> normal(0.f, opt.std);
    nlohmann::json weight_map = nlohmann::json::object();
    size_t next = 0;
    for (int s = 0; s < shards; ++s) {
        const size_t end = params.size() * size_t(s + 1) / size_t(shards);
        std::vector<std::pair<std::string, Tensor>> tensors;
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
        const std::string file = shards == 1 ? "model.safetensors" : name;
        for (; next < end; ++next) {
            const ParameterSpec& p = params[next];
            const bool norm = p.name.find("norm") != std::string::npos ||
                              p.name.find("ln_q") != std::string::npos;
            Tensor t(opt.dtype, p.shape);
            for (int64_t i = 0; i < t.numel(); ++i) {
                const float v = norm ? 1.0f + normal(rng) : normal(rng);
                switch (opt.dtype) {
                    case DType::F32: t.data<float>()[i] = v; break;
                    case DType::BF16: t.data<uint16_t>()[i] = f32_to_bf16(v); break;
                    case DType::F16: t.data<uint16_t>()[i] = f32_to_f16(v); break;
                    default: fail("synthetic checkpoint: unsupported dtype");
                }
            }
            tensors.emplace_back(p.name, std::move(t));
            weight_map[p.name] = file;
        }
        std::ofstream out(fs::path(dir) / file, std::ios::binary);
        out << serialize_safetensors(tensors);
        check(out.good(), dir, ": cannot write ", file);
    }
    if (shards > 1)
        std::ofstream(fs::path(dir) / "model.safetensors.index.json")
            << nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", weight_map}}.dump(2);
}

}  // namespace dimple
