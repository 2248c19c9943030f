#include "io/packed_weights.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/huge_pages.h"
#include "io/safetensors.h"

namespace dimple {

namespace {

constexpr char kMagic[8] = {'D', 'I', 'M', 'P', 'A', 'C', 'K', '1'};
constexpr size_t kTrailer = 16 + sizeof(kMagic);

uint64_t read_u64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

void put_u64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

}  // namespace

std::string scales_hash(const Tensor& scales) {
    check(scales.dtype() == DType::F32 && scales.is_contiguous(), "scales_hash: f32 scales expected");
    uint64_t h = 14695981039346656037ull;
    const auto* b = static_cast<const uint8_t*>(scales.raw());
    for (size_t i = 0; i < scales.nbytes(); ++i) h = (h ^ b[i]) * 1099511628211ull;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}

PackedWeights::PackedWeights(const std::string& path) : map_(std::make_shared<MappedFile>(path, true)) {
    const uint8_t* base = map_->data();
    const uint64_t size = map_->size();
    auto bad = [&](const std::string& why) {
        fail(path, ": not a whole packed-weights file (", why,
             "); delete it or write it again with `dimple quantize --packed`");
    };
    if (size < sizeof(kMagic) + kTrailer || std::memcmp(base, kMagic, sizeof kMagic) != 0 ||
        std::memcmp(base + size - sizeof kMagic, kMagic, sizeof kMagic) != 0)
        bad("no DIMPACK1 marks at both ends");
    const uint64_t index_at = read_u64(base + size - kTrailer), index_len = read_u64(base + size - kTrailer + 8);
    if (index_at < sizeof kMagic || index_at > size - kTrailer || index_len != size - kTrailer - index_at)
        bad("index out of range");
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(base + index_at, base + index_at + index_len);
    } catch (const nlohmann::json::exception& e) {
        bad(std::string("index is not JSON: ") + e.what());
    }
    if (!index.is_object() || !index.contains("layers") || !index["layers"].is_object()) bad("no \"layers\"");
    for (const auto& [key, e] : index["layers"].items()) {
        try {
            Layer layer;
            const uint64_t offset = e.at("offset").get<uint64_t>(), bytes = e.at("bytes").get<uint64_t>();
            const uint64_t colsum = e.at("colsum").get<uint64_t>();
            const int64_t out = e.at("out").get<int64_t>();
            if (out <= 0 || offset % 64 || colsum % 4 || offset > index_at || bytes > index_at - offset ||
                colsum > index_at || uint64_t(out) > (index_at - colsum) / 4)
                bad("layer '" + key + "' lies outside the data");
            layer.weights = {base + offset, size_t(bytes), e.at("layout").get<std::string>(),
                             reinterpret_cast<const int32_t*>(base + colsum), map_};
            layer.scales = e.at("scales").get<std::string>();
            layers_[key] = std::move(layer);
        } catch (const nlohmann::json::exception& ex) {
            bad("layer '" + key + "': " + ex.what());
        }
    }
}

const PrepackedInt8* PackedWeights::find(const std::string& key, const Tensor& scales) const {
    const auto it = layers_.find(key);
    if (it == layers_.end() || it->second.scales != scales_hash(scales)) return nullptr;
    return &it->second.weights;
}

PackedWeightsWriter::PackedWeightsWriter(const std::string& path) : path_(path), tmp_(path + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    check(fd_ >= 0, tmp_, ": cannot create (", std::strerror(errno), ")");
    append(kMagic, sizeof kMagic, 1);
}

PackedWeightsWriter::~PackedWeightsWriter() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(tmp_.c_str());  // unfinished: leave nothing half-written behind
}

uint64_t PackedWeightsWriter::append(const void* data, size_t bytes, uint64_t align) {
    const uint64_t at = (end_ + align - 1) / align * align;
    const auto* p = static_cast<const char*>(data);
    for (size_t done = 0; done < bytes;) {
        const ssize_t n = ::pwrite(fd_, p + done, bytes - done, off_t(at + done));
        check(n > 0 || (n < 0 && errno == EINTR), tmp_, ": write failed (", std::strerror(errno), ")");
        if (n > 0) done += size_t(n);
    }
    end_ = at + bytes;
    return at;
}

void PackedWeightsWriter::add(const std::string& key, const PrepackedInt8& weights, int64_t out,
                              const Tensor& scales) {
    check(fd_ >= 0, tmp_, ": already finished");
    Entry e{key, weights.layout, scales_hash(scales)};
    e.offset = append(weights.data, weights.bytes, kHugePage);
    e.bytes = weights.bytes;
    e.colsum = append(weights.colsum, size_t(out) * sizeof(int32_t), 64);
    e.out = out;
    entries_.push_back(std::move(e));
}

void PackedWeightsWriter::finish() {
    check(fd_ >= 0, tmp_, ": already finished");
    nlohmann::json layers = nlohmann::json::object();
    for (const Entry& e : entries_)
        layers[e.key] = {{"offset", e.offset}, {"bytes", e.bytes}, {"layout", e.layout},
                         {"colsum", e.colsum}, {"out", e.out}, {"scales", e.scales}};
    const std::string index = nlohmann::json{{"layers", layers}}.dump();
    const uint64_t index_at = append(index.data(), index.size(), 1);
    uint8_t trailer[kTrailer];
    put_u64(trailer, index_at);
    put_u64(trailer + 8, index.size());
    std::memcpy(trailer + 16, kMagic, sizeof kMagic);
    append(trailer, sizeof trailer, 1);
    check(::fsync(fd_) == 0, tmp_, ": sync failed (", std::strerror(errno), ")");
    ::close(fd_);
    fd_ = -1;
    check(std::rename(tmp_.c_str(), path_.c_str()) == 0, path_, ": cannot replace (", std::strerror(errno), ")");
}

}  // namespace dimple
