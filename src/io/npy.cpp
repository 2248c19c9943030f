#include "io/npy.h"

#include <cstring>
#include <fstream>
#include <regex>

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

    std::smatch m;
    check(std::regex_search(header, m, std::regex("'descr':\\s*'([<|>=]?)([a-z])(\\d+)'")), path,
          ": .npy header has no descr");
    const std::string order = m[1], kind = m[2];
    const int width = std::stoi(m[3]);
    check(order != ">", path, ": big-endian .npy is not supported");
    check(!std::regex_search(header, std::regex("'fortran_order':\\s*True")), path,
          ": Fortran-order .npy is not supported");
    check(std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")), path,
          ": .npy header has no shape");
    Shape shape;
    const std::string dims = m[1];
    const std::regex number("\\d+");
    for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
        shape.push_back(std::stoll(it->str()));

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
