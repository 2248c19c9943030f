#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <string_view>

#include "core/error.h"

namespace dimple {

Tensor read_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    check(f.good(), path, ": cannot open");
    char magic[8];
    f.read(magic, 8);
    check(f.good() && std::memcmp(magic, "\x93NUMPY", 6) == 0, path, ": not a .npy file");
    uint32_t header_len = 0;
    if (magic[6] == 1) {
        uint16_t n = 0;
        f.read(reinterpret_cast<char*>(&n), 2);
        header_len = n;
    } else {
        f.read(reinterpret_cast<char*>(&header_len), 4);
    }
    check(f.good() && header_len < (1u << 20), path, ": bad .npy header length");
    std::string header(header_len, '\0');
    f.read(header.data(), header_len);
    check(f.good(), path, ": truncated .npy header");

    // The header is a Python dict literal; only its three keys matter, so read them by hand.
    auto value_of = [&](const std::string& key) {
        const size_t k = header.find("'" + key + "'");
        check(k != std::string::npos, path, ": .npy header has no ", key);
        size_t v = header.find(':', k);
        check(v != std::string::npos, path, ": malformed .npy header");
        ++v;
        while (v < header.size() && header[v] == ' ') ++v;
        return v;
    };
    size_t d = value_of("descr");
    check(d < header.size() && header[d] == '\'', path, ": malformed descr in .npy header");
    const size_t d_end = header.find('\'', d + 1);
    check(d_end != std::string::npos && d_end - d >= 3, path, ": malformed descr in .npy header");
    std::string descr = header.substr(d + 1, d_end - d - 1);  // e.g. "<f4", "|u1"
    if (std::string_view("<>|=").find(descr[0]) != std::string_view::npos) {  // byte order mark
        check(descr[0] != '>', path, ": big-endian .npy is not supported");
        descr.erase(0, 1);
    }
    const std::string kind = descr.substr(0, 1);
    int width = 0;
    for (size_t i = 1; i < descr.size(); ++i) {
        check(descr[i] >= '0' && descr[i] <= '9', path, ": unsupported .npy dtype ", descr);
        width = width * 10 + (descr[i] - '0');
    }
    check(header.compare(value_of("fortran_order"), 5, "False") == 0, path,
          ": Fortran-order .npy is not supported");
    const size_t sh = value_of("shape");
    check(sh < header.size() && header[sh] == '(', path, ": malformed shape in .npy header");
    const size_t sh_end = header.find(')', sh);
    check(sh_end != std::string::npos, path, ": malformed shape in .npy header");
    Shape shape;
    int64_t dim = -1;
    for (size_t i = sh + 1; i <= sh_end; ++i) {
        const char c = header[i];
        if (c >= '0' && c <= '9') {
            dim = (dim < 0 ? 0 : dim * 10) + (c - '0');
            check(dim < (int64_t(1) << 40), path, ": implausible .npy shape");
        } else if (c == ',' || c == ')') {
            if (dim >= 0) shape.push_back(dim);
            dim = -1;
        } else {
            check(c == ' ', path, ": malformed shape in .npy header");
        }
    }

    const int64_t n = shape_numel(shape);
    auto read_all = [&](void* dst, size_t bytes) {
        f.read(static_cast<char*>(dst), std::streamsize(bytes));
        check(size_t(f.gcount()) == bytes, path, ": truncated .npy data");
    };
    if (kind == "f" && width == 4) {
        Tensor t(DType::F32, shape);
        read_all(t.raw(), t.nbytes());
        return t;
    }
    if (kind == "f" && width == 8) {
        std::vector<double> tmp(static_cast<size_t>(n));
        read_all(tmp.data(), tmp.size() * 8);
        Tensor t(DType::F32, shape);
        for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = float(tmp[size_t(i)]);
        return t;
    }
    if (kind == "i" && width == 8) {
        Tensor t(DType::I64, shape);
        read_all(t.raw(), t.nbytes());
        return t;
    }
    if (kind == "i" && width == 4) {
        std::vector<int32_t> tmp(static_cast<size_t>(n));
        read_all(tmp.data(), tmp.size() * 4);
        Tensor t(DType::I64, shape);
        for (int64_t i = 0; i < n; ++i) t.data<int64_t>()[i] = tmp[size_t(i)];
        return t;
    }
    if (kind == "u" && width == 1) {
        Tensor t(DType::U8, shape);
        read_all(t.raw(), t.nbytes());
        return t;
    }
    fail(path, ": unsupported .npy dtype ", kind, width);
}

void write_npy(const std::string& path, const Tensor& t) {
    check(t.is_contiguous(), "write_npy: non-contiguous tensor");
    std::string descr;
    switch (t.dtype()) {
        case DType::F32: descr = "<f4"; break;
        case DType::I64: descr = "<i8"; break;
        case DType::I32: descr = "<i4"; break;
        case DType::U8: descr = "|u1"; break;
        default: fail("write_npy: unsupported dtype ", dtype_name(t.dtype()));
    }
    std::string shape;
    for (int64_t d : t.shape()) shape += std::to_string(d) + ", ";
    if (t.ndim() > 1) shape.resize(shape.size() - 1);  // "(3, 4)" but "(3,)"
    if (t.ndim() > 1) shape.pop_back();
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    check(f.good(), path, ": cannot write");
    const uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.write(reinterpret_cast<const char*>(&len), 2);
    f.write(header.data(), std::streamsize(header.size()));
    f.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
    check(f.good(), path, ": write failed");
}

}  // namespace dimple
