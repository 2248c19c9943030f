#include "vision/image.h"

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple {

Image Image::blank(int width, int height) {
    Image img;
    img.width = width;
    img.height = height;
    img.rgb.resize(size_t(width) * size_t(height) * 3);
    return img;
}


namespace codec {

void check_image_size(int64_t width, int64_t height, const ImageLimits& limits, const std::string& label) {
    check(width > 0 && height > 0, label, ": image has zero width or height (", width, "x", height, ")");
    check(width <= limits.max_side && height <= limits.max_side, label, ": image is ", width, "x", height,
          ", larger than the ", limits.max_side, " pixel limit per side");
    check(width * height <= limits.max_pixels, label, ": image is ", width, "x", height, " = ",
          width * height, " pixels, more than the limit of ", limits.max_pixels);
    if (limits.before_decode) limits.before_decode(width, height);
}

Palette grey_ramp_palette() {
    Palette p;
    for (int i = 0; i < 256; ++i) p[size_t(i) * 3] = p[size_t(i) * 3 + 1] = p[size_t(i) * 3 + 2] = uint8_t(i);
    return p;
}

}  // namespace codec

static bool starts_with(std::span<const uint8_t> bytes, std::string_view magic, size_t at = 0) {
    return bytes.size() >= at + magic.size() && std::memcmp(bytes.data() + at, magic.data(), magic.size()) == 0;
}

Image decode_image(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    check(!bytes.empty(), label, ": empty image data");
    check(bytes.size() <= limits.max_file_bytes, label, ": ", bytes.size(), " bytes of image data, more than the limit of ",
          limits.max_file_bytes);
    if (starts_with(bytes, "\xFF\xD8\xFF")) return codec::decode_jpeg(bytes, label, limits);
    if (starts_with(bytes, "\x89PNG\r\n\x1A\n")) return codec::decode_png(bytes, label, limits);
    if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) return codec::decode_gif(bytes, label, limits);
    if (starts_with(bytes, "RIFF") && starts_with(bytes, "WEBP", 8)) return codec::decode_webp(bytes, label, limits);
    if (starts_with(bytes, "BM")) return codec::decode_bmp(bytes, label, limits);
    fail(label, ": not a supported image (JPEG, PNG, GIF, BMP or WebP expected)");
}

Image load_image(const std::string& path, const ImageLimits& limits) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    check(f.good(), path, ": cannot open image file");
    const std::streamoff size = f.tellg();
    check(size >= 0, path, ": cannot read image file");
    check(uint64_t(size) <= limits.max_file_bytes, path, ": ", size, " bytes, more than the image file limit of ",
          limits.max_file_bytes);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(bytes.data()), size);
    check(f.gcount() == size, path, ": short read");
    return decode_image(bytes, path, limits);
}

std::vector<uint8_t> decode_base64(std::string_view text) {
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3 + 3);
    uint32_t acc = 0;
    int bits = 0;
    size_t padding = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else fail("base64: invalid character at offset ", i);
        check(padding == 0, "base64: data after '=' padding at offset ", i);
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(uint8_t(acc >> bits));
        }
    }
    // A final group of one character carries 6 bits: no whole byte, so the data was cut short.
    check(bits != 6, "base64: truncated (a lone final character)");
    check(padding <= 2, "base64: too much '=' padding");
    return out;
}

Image decode_data_url(std::string_view url, const ImageLimits& limits) {
    constexpr std::string_view prefix = "data:";
    check(url.size() >= prefix.size() && url.substr(0, prefix.size()) == prefix,
          "image URL: only data: URLs are accepted here (data:image/...;base64,...)");
    const size_t comma = url.find(',');
    check(comma != std::string_view::npos, "image data URL: no ',' before the payload");
    const std::string_view header = url.substr(prefix.size(), comma - prefix.size());
    constexpr std::string_view b64 = ";base64";
    check(header.size() >= b64.size() && header.substr(header.size() - b64.size()) == b64,
          "image data URL: only base64 payloads are supported (data:image/...;base64,...)");
    // Base64 grows data by 4/3: refuse an oversized payload before decoding it.
    check(url.size() - comma - 1 <= limits.max_file_bytes / 3 * 4 + 4, "image data URL: payload larger than the limit of ",
          limits.max_file_bytes, " bytes");
    std::vector<uint8_t> bytes;
    try {
        bytes = decode_base64(url.substr(comma + 1));
    } catch (const Error& e) {
        fail("image data URL: ", e.what());
    }
    return decode_image(bytes, "image data URL", limits);
}

}  // namespace dimple
