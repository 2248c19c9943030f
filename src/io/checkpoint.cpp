#include "io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/int8.h"

namespace dimple {

namespace fs = std::filesystem;

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
    check(fs::is_directory(dir), dir, ": not a model folder");
    const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
    const fs::path single_path = fs::path(dir) / "model.safetensors";

    std::map<std::string, std::string> weight_map;  // tensor -> shard file, when sharded
    std::vector<std::string> shard_names;
    if (fs::exists(index_path)) {
        nlohmann::json j;
        try {
            std::ifstream f(index_path);
            j = nlohmann::json::parse(f);
        } catch (const nlohmann::json::exception& e) {
            fail(index_path.string(), ": not valid JSON (", e.what(), ")");
        }
        check(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
              index_path.string(), ": missing \"weight_map\"");
        std::set<std::string> shards;
        for (auto& [name, file] : j["weight_map"].items()) {
            check(file.is_string(), index_path.string(), ": weight_map entry '", name,
                  "' is not a file name");
            const std::string f = file.get<std::string>();
            check(f.find('/') == std::string::npos && f.find("..") == std::string::npos,
                  index_path.string(), ": shard name '", f, "' must be a plain file name");
            weight_map[name] = f;
            shards.insert(f);
        }
        shard_names.assign(shards.begin(), shards.end());
    } else {
        check(fs::exists(single_path), dir, ": no model.safetensors or model.safetensors.index.json");
        shard_names.push_back("model.safetensors");
    }

    for (const auto& shard : shard_names) {
        files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / shard).string()));
        const SafetensorsFile* f = files_.back().get();
        for (const auto& e : f->header().tensors) {
            if (!weight_map.empty()) {
                auto it = weight_map.find(e.name);
                if (it == weight_map.end() || it->second != shard) continue;  // not this shard's
            }
            check(index_.count(e.name) == 0, f->path(), ": tensor '", e.name,
                  "' appears in more than one file");
            index_[e.name] = {f, &e};
        }
    }
    for (const auto& [name, shard] : weight_map)
        check(index_.count(name) != 0, (fs::path(dir) / shard).string(), ": tensor '", name,
              "' is listed in model.safetensors.index.json but missing from the file");
}

const PackedWeights* Checkpoint::packed() const {
    if (!packed_opened_) {
        packed_opened_ = true;
        const fs::path path = fs::path(dir_) / kPackedWeightsFile;
        if (fs::exists(path)) packed_ = std::make_unique<PackedWeights>(path.string());
    }
    return packed_.get();
}

void Checkpoint::record_packed(PackedWeightsWriter* writer) {
    writer_ = writer;
    packed_.reset();
    packed_opened_ = true;  // a folder being packed reads none of its old file
}

namespace {

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

}  // namespace

Tensor Checkpoint::view(const std::string& name, const Shape& expected, bool allow_int8) const {
    auto it = index_.find(name);
    check(it != index_.end(), dir_, ": tensor '", name, "' is missing from the checkpoint");
    const auto [file, entry] = it->second;
    check(is_float(entry->dtype) || (allow_int8 && entry->dtype == DType::I8), file->path(),
          ": tensor '", name, "' has dtype ", dtype_name(entry->dtype), ", expected F32, F16 or BF16",
          allow_int8 ? " (or I8 with scales)" : "");
    check(entry->shape == expected, file->path(), ": tensor '", name, "' has shape ",
          shape_str(entry->shape), " but the config implies ", shape_str(expected));
    return file->view(*entry);
}

Tensor Checkpoint::get(const std::string& name, const Shape& expected) const {
    return view(name, expected, false);
}

Checkpoint::LinearWeight Checkpoint::linear_weight(const std::string& name, const Shape& expected) const {
    LinearWeight w;
    w.weight = view(name + ".weight", expected, true);
    const std::string scale = name + ".weight_scale";
    if (w.weight.dtype() == DType::I8) {
        check(has(scale), dir_, ": int8 tensor '", name, ".weight' has no scales ('", scale, "')");
        w.scale = view(scale, {expected[0]}, false);
        check(w.scale.dtype() == DType::F32, dir_, ": '", scale, "' must be F32, not ",
              dtype_name(w.scale.dtype()));
    } else {
        check(!has(scale), dir_, ": '", scale, "' scales a tensor that is not int8");
    }
    return w;
}

Checkpoint::LinearWeight Checkpoint::linear_weight_int8(const std::string& name, const Shape& expected) const {
    LinearWeight w = linear_weight(name, expected);
    if (w.weight.dtype() == DType::I8) return w;
    const int64_t rows = expected[0], k = w.weight.numel() / rows;
    Tensor q(DType::I8, expected), scale = Tensor::f32({rows});
    const auto [file, entry] = index_.at(name + ".weight");
    const size_t row_bytes = size_t(k) * dtype_size(w.weight.dtype());
    const int64_t block = std::max<int64_t>(1, int64_t((64u << 20) / row_bytes));  // 64 MiB of source
    for (int64_t r = 0; r < rows; r += block) {
        const int64_t n = std::min(block, rows - r);
        quantize_weight_rows(w.weight.dtype(), static_cast<const char*>(w.weight.raw()) + size_t(r) * row_bytes, n, k,
                             q.data<int8_t>() + r * k, scale.data<float>() + r);
        file->release_bytes(*entry, size_t(r) * row_bytes, size_t(n) * row_bytes);
    }
    return {q, scale};
}

void Checkpoint::release(const std::string& name) const {
    auto it = index_.find(name);
    if (it != index_.end()) it->second.first->release(*it->second.second);
}

std::vector<Checkpoint::Item> Checkpoint::items() const {
    std::vector<Item> out;
    for (const auto& [name, fe] : index_) out.push_back({name, fe.first, fe.second});
    return out;
}

size_t Checkpoint::file_bytes() const {
    size_t total = 0;
    for (const auto& f : files_) total += fs::file_size(f->path());
    return total;
}

}  // namespace dimple
