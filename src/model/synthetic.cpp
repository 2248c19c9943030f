#include "model/synthetic.h"

#include <algorithm>
#include <cstring>
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

namespace {

// Draws one tensor's values and writes them to `out` a bounded chunk at a time, so that writing a
// 7B checkpoint holds a few MiB, not its largest tensor (the 1 GiB embedding table) or a whole shard.
void write_random_tensor(std::ofstream& out, const ParameterSpec& p, DType dtype, std::mt19937& rng,
                         std::normal_distribution<float>& normal) {
    const bool norm = p.name.find("norm") != std::string::npos || p.name.find("ln_q") != std::string::npos;
    constexpr int64_t kChunk = int64_t(1) << 20;  // elements
    std::vector<char> bytes;
    const size_t esize = dtype_size(dtype);
    for (int64_t begin = 0, numel = shape_numel(p.shape); begin < numel; begin += kChunk) {
        const int64_t n = std::min(kChunk, numel - begin);
        bytes.resize(size_t(n) * esize);
        for (int64_t i = 0; i < n; ++i) {
            const float v = norm ? 1.0f + normal(rng) : normal(rng);
            char* dst = bytes.data() + size_t(i) * esize;
            switch (dtype) {
                case DType::F32: std::memcpy(dst, &v, 4); break;
                case DType::BF16: { const uint16_t h = f32_to_bf16(v); std::memcpy(dst, &h, 2); break; }
                case DType::F16: { const uint16_t h = f32_to_f16(v); std::memcpy(dst, &h, 2); break; }
                default: fail("synthetic checkpoint: unsupported dtype");
            }
        }
        out.write(bytes.data(), std::streamsize(bytes.size()));
    }
}

}  // namespace

void write_synthetic_checkpoint(const std::string& dir, const std::string& config_json,
                                const SyntheticOptions& opt, const SyntheticProgress& progress) {
    fs::create_directories(dir);
    // Read against the folder: a tower folder config.json names (LLaDA-V) is looked up there.
    const ModelConfig cfg = parse_model_config(config_json, "synthetic config", dir);
    std::ofstream(fs::path(dir) / "config.json") << config_json;
    nlohmann::json gen = {{"bos_token_id", cfg.ids.bos}, {"eos_token_id", cfg.ids.eos},
                          {"pad_token_id", cfg.ids.pad}, {"mask_token_id", cfg.ids.mask}};
    std::ofstream(fs::path(dir) / "generation_config.json") << gen.dump(2);

    const auto params = expected_parameters(cfg);
    const int shards = std::max(1, opt.shards);
    std::mt19937 rng(opt.seed);
    std::normal_distribution<float> normal(0.f, opt.std);
    nlohmann::json weight_map = nlohmann::json::object();
    uint64_t total = 0, done = 0;
    for (const ParameterSpec& p : params) total += uint64_t(shape_numel(p.shape)) * dtype_size(opt.dtype);
    size_t next = 0;
    for (int s = 0; s < shards; ++s) {
        const size_t end = params.size() * size_t(s + 1) / size_t(shards);
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
        const std::string file = shards == 1 ? "model.safetensors" : name;
        std::vector<TensorLayout> layout;
        for (size_t i = next; i < end; ++i) {
            layout.push_back({params[i].name, opt.dtype, params[i].shape});
            weight_map[params[i].name] = file;
        }
        std::ofstream out(fs::path(dir) / file, std::ios::binary);
        out << safetensors_header(layout);
        for (; next < end; ++next) {
            write_random_tensor(out, params[next], opt.dtype, rng, normal);
            done += uint64_t(shape_numel(params[next].shape)) * dtype_size(opt.dtype);
            if (progress) progress(done, total);
        }
        out.close();
        check(out.good(), dir, ": cannot write ", file, " (disk full?)");
    }
    if (shards > 1)
        std::ofstream(fs::path(dir) / "model.safetensors.index.json")
            << nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", weight_map}}.dump(2);
}

}  // namespace dimple
