#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/huge_pages.h"

namespace dimple {

namespace {

constexpr size_t kMaxHeaderBytes = 100u << 20;  // the format's own limit

bool parse_dtype(const std::string& s, DType* out) {
    static const std::map<std::string, DType> kTypes = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
        {"I64", DType::I64}, {"I32", DType::I32}, {"U8", DType::U8}, {"I8", DType::I8}};
    auto it = kTypes.find(s);
    if (it == kTypes.end()) return false;
    *out = it->second;
    return true;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t available, size_t file_size,
                                           const std::string& label) {
    check(available >= 8 && file_size >= 8, label, ": too small to be a safetensors file (",
          file_size, " bytes)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    check(n <= kMaxHeaderBytes, label, ": header length ", n, " is implausible (corrupt file?)");
    check(8 + n <= file_size, label, ": header length ", n, " runs past the end of the file (",
          file_size, " bytes): truncated or corrupt");
    check(8 + n <= available, label, ": header not fully available");

    nlohmann::json j;
    try {
        j = nlohmann::json::parse(bytes + 8, bytes + 8 + n);
    } catch (const nlohmann::json::exception& e) {
        fail(label, ": header is not valid JSON (", e.what(), ")");
    }
    check(j.is_object(), label, ": header is not a JSON object");

    SafetensorsHeader h;
    h.data_offset = size_t(8 + n);
    const size_t data_size = file_size - h.data_offset;
    for (auto& [key, value] : j.items()) {
        if (key == "__metadata__") {
            check(value.is_object(), label, ": __metadata__ is not an object");
            for (auto& [mk, mv] : value.items()) {
                check(mv.is_string(), label, ": __metadata__ value for '", mk, "' is not a string");
                h.metadata[mk] = mv.get<std::string>();
            }
            continue;
        }
        const std::string where = label + ": tensor '" + key + "'";
        check(value.is_object(), where, ": entry is not an object");
        check(value.contains("dtype") && value["dtype"].is_string(), where, ": missing dtype");
        check(value.contains("shape") && value["shape"].is_array(), where, ": missing shape");
        check(value.contains("data_offsets") && value["data_offsets"].is_array() &&
                  value["data_offsets"].size() == 2,
              where, ": missing or malformed data_offsets");
        TensorEntry e;
        e.name = key;
        const std::string dt = value["dtype"].get<std::string>();
        check(parse_dtype(dt, &e.dtype), where, ": unsupported dtype ", dt);
        uint64_t numel = 1;
        for (auto& d : value["shape"]) {
            check(d.is_number_unsigned(), where, ": shape has a non-integer or negative dimension");
            const uint64_t v = d.get<uint64_t>();
            check(v < (1ull << 40) && (v == 0 || numel <= (1ull << 48) / v), where,
                  ": shape is implausibly large");
            numel *= v;
            e.shape.push_back(int64_t(v));
        }
        for (auto& o : value["data_offsets"])
            check(o.is_number_unsigned(), where, ": data_offsets are not non-negative integers");
        const uint64_t b = value["data_offsets"][0].get<uint64_t>();
        const uint64_t en = value["data_offsets"][1].get<uint64_t>();
        check(b <= en, where, ": data_offsets [", b, ", ", en, "] are reversed");
        check(en <= data_size, where, ": data_offsets end ", en, " lies past the data section (",
              data_size, " bytes): truncated or lying offsets");
        check(en - b == numel * dtype_size(e.dtype), where, ": byte range of ", en - b,
              " bytes does not match ", dt, " shape ", shape_str(e.shape), " (",
              numel * dtype_size(e.dtype), " bytes)");
        e.begin = size_t(b);
        e.end = size_t(en);
        h.tensors.push_back(std::move(e));
    }
    std::sort(h.tensors.begin(), h.tensors.end(),
              [](const TensorEntry& a, const TensorEntry& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < h.tensors.size(); ++i) {
        const auto& prev = h.tensors[i - 1];
        check(h.tensors[i].begin >= prev.end, label, ": tensors '", prev.name, "' and '",
              h.tensors[i].name, "' overlap");
    }
    return h;
}

std::string safetensors_header(const std::vector<TensorLayout>& tensors,
                               const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    size_t offset = 0;
    for (const TensorLayout& t : tensors) {
        const size_t bytes = size_t(shape_numel(t.shape)) * dtype_size(t.dtype);
        header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
    return out + text;
}

std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors) {
    std::vector<TensorLayout> layout;
    for (const auto& [name, t] : tensors) layout.push_back({name, t.dtype(), t.shape()});
    std::string out = safetensors_header(layout);
    for (const auto& [name, t] : tensors) out.append(static_cast<const char*>(t.raw()), t.nbytes());
    return out;
}

namespace {

// Maps every page of [data, data+size) now, split over the threads (MADV_POPULATE_READ, Linux 5.14;
// reading a byte per page where the kernel lacks it).
void populate(const uint8_t* data, size_t size) {
    const int64_t chunks = int64_t((size + kHugePage * 8 - 1) / (kHugePage * 8));
    volatile uint8_t sink = 0;
#pragma omp parallel for schedule(dynamic)
    for (int64_t c = 0; c < chunks; ++c) {
        const size_t begin = size_t(c) * kHugePage * 8, len = std::min(size - begin, kHugePage * 8);
#ifdef MADV_POPULATE_READ
        if (::madvise(const_cast<uint8_t*>(data) + begin, len, MADV_POPULATE_READ) == 0) continue;
#endif
        for (size_t i = 0; i < len; i += 4096) sink = data[begin + i];
    }
    (void)sink;
}

}  // namespace

MappedFile::MappedFile(const std::string& path, bool resident) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, path, ": cannot open (", std::strerror(errno), ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(path, ": not a regular file");
    }
    size_ = mapped_ = size_t(st.st_size);
    if (size_ > 0) {
        void* at = resident ? map_huge_aligned(size_, PROT_NONE) : nullptr;
        void* p = ::mmap(at, size_, PROT_READ, MAP_PRIVATE | (at ? MAP_FIXED : 0), fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            if (at) ::munmap(at, size_);
            ::close(fd);
            fail(path, ": mmap failed (", std::strerror(err), ")");
        }
        data_ = static_cast<uint8_t*>(p);
    }
    ::close(fd);
    if (resident && data_) {
        ::madvise(data_, size_, MADV_HUGEPAGE);
        populate(data_, size_);
    }
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(data_, mapped_);
}

void MappedFile::release(size_t offset, size_t bytes) const {
    const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    const size_t begin = (offset + page - 1) / page * page;  // only whole pages inside the range
    const size_t end = (offset + bytes) / page * page;
    if (data_ && end > begin) ::madvise(data_ + begin, end - begin, MADV_DONTNEED);
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : map_(std::make_shared<MappedFile>(path)) {
    header_ = parse_safetensors_header(map_->data(), map_->size(), map_->size(), path);
    storage_ = Storage::borrow(const_cast<uint8_t*>(map_->data()), map_->size(), map_);
}

Tensor SafetensorsFile::view(const TensorEntry& e) const {
    return Tensor(e.dtype, e.shape, storage_, header_.data_offset + e.begin);
}

void SafetensorsFile::release_bytes(const TensorEntry& e, size_t begin, size_t bytes) const {
    map_->release(header_.data_offset + e.begin + begin, std::min(bytes, e.end - e.begin - std::min(begin, e.end - e.begin)));
}

void SafetensorsFile::release(const TensorEntry& e) const {
    map_->release(header_.data_offset + e.begin, e.end - e.begin);
}

}  // namespace dimple
