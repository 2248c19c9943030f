// BMP by hand: Debian has no BMP library that reads the variants PIL does, and the uncompressed
// format is a header plus rows. We read what PIL 9.4's BmpImagePlugin reads uncompressed, with its
// interpretation:
// - headers of 12 (OS/2 1.x, 3-byte palette entries), 40, 64, 108 and 124 bytes;
// - 1/4/8-bit palette, 16-bit 5-5-5 (or 5-6-5 by bitfields), 24-bit, 32-bit with the 4th byte
//   ignored, and the 32-bit bitfield layouts PIL accepts (any alpha is dropped anyway);
// - rows bottom-up unless the height's top byte is 0xFF (PIL's test for a negative height).
// RLE-compressed files are refused: rare, and not worth a second decoder here.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple::codec {

namespace {

uint16_t u16(std::span<const uint8_t> b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }
uint32_t u32(std::span<const uint8_t> b, size_t at) { return uint32_t(u16(b, at)) | uint32_t(u16(b, at + 2)) << 16; }

enum : uint32_t { kRaw = 0, kRle8 = 1, kRle4 = 2, kBitfields = 3 };

// Where R, G and B sit in a 32-bit pixel, for each bitfield layout PIL accepts (r, g, b, a masks).
struct Layout32 {
    uint32_t masks[4];
    int r, g, b;
};
constexpr Layout32 kLayouts32[] = {
    {{0xFF0000, 0xFF00, 0xFF, 0}, 2, 1, 0},
    {{0xFF000000, 0xFF0000, 0xFF00, 0}, 3, 2, 1},
    {{0xFF000000, 0xFF0000, 0xFF00, 0xFF}, 3, 2, 1},
    {{0xFF, 0xFF00, 0xFF0000, 0xFF000000}, 0, 1, 2},
    {{0xFF0000, 0xFF00, 0xFF, 0xFF000000}, 2, 1, 0},
    {{0, 0, 0, 0}, 2, 1, 0},
};

// PIL widens 5- and 6-bit fields with truncating integer arithmetic: v * 255 / max.
uint8_t widen(uint32_t v, uint32_t max) { return uint8_t(v * 255 / max); }

}  // namespace

Image decode_bmp(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    auto need = [&](uint64_t end) { check(end <= bytes.size(), label, ": BMP is truncated"); };
    need(18);
    uint64_t data_offset = u32(bytes, 10);
    const uint32_t header_size = u32(bytes, 14);
    const uint64_t header_end = 14 + uint64_t(header_size);

    int64_t width = 0, height = 0;
    int bits = 0;
    uint32_t compression = kRaw, colors = 0, masks[4] = {};
    bool top_down = false;
    size_t entry_size = 4;  // bytes per palette entry
    if (header_size == 12) {
        need(26);
        width = u16(bytes, 18);
        height = u16(bytes, 20);
        bits = u16(bytes, 24);
        entry_size = 3;
    } else if (header_size == 40 || header_size == 64 || header_size == 108 || header_size == 124) {
        need(header_end);
        width = u32(bytes, 18);
        const uint32_t h = u32(bytes, 22);
        top_down = (h >> 24) == 0xFF;
        height = top_down ? int64_t(0x100000000) - h : h;
        bits = u16(bytes, 28);
        compression = u32(bytes, 30);
        colors = u32(bytes, 46);
        if (compression == kBitfields) {
            // Only the larger headers hold the masks (and alpha); a 40-byte one is followed by them.
            const size_t at = header_size >= 56 ? 54 : header_end;
            need(at + (header_size >= 56 ? 16 : 12));
            for (int i = 0; i < (header_size >= 56 ? 4 : 3); ++i) masks[i] = u32(bytes, at + size_t(i) * 4);
        }
    } else {
        fail(label, ": unsupported BMP header size ", header_size);
    }
    check(bits == 1 || bits == 4 || bits == 8 || bits == 16 || bits == 24 || bits == 32, label,
          ": unsupported BMP bit depth ", bits);
    check(compression != kRle8 && compression != kRle4, label, ": RLE-compressed BMP is not supported");
    check(compression == kRaw || compression == kBitfields, label, ": unsupported BMP compression ", compression);

    // Byte positions of R, G, B for 24/32 bits; for 16 bits whether green has 6 bits.
    int r_at = 2, g_at = 1, b_at = 0;
    bool green6 = false;
    if (compression == kBitfields) {
        bool known = false;
        if (bits == 32)
            for (const Layout32& l : kLayouts32)
                if (std::equal(masks, masks + 4, l.masks)) known = true, r_at = l.r, g_at = l.g, b_at = l.b;
        if (bits == 24) known = masks[0] == 0xFF0000 && masks[1] == 0xFF00 && masks[2] == 0xFF;
        if (bits == 16) {
            green6 = masks[0] == 0xF800 && masks[1] == 0x7E0 && masks[2] == 0x1F;
            known = green6 || (masks[0] == 0x7C00 && masks[1] == 0x3E0 && masks[2] == 0x1F);
        }
        check(known, label, ": unsupported BMP bitfields layout");
    }
    check_image_size(width, height, limits, label);

    Palette palette = grey_ramp_palette();
    if (bits <= 8) {
        const uint64_t count = colors ? colors : 1u << bits;
        check(count <= 256, label, ": BMP palette of ", count, " colours");
        need(header_end + count * entry_size);
        for (uint64_t i = 0; i < count; ++i) {
            const uint8_t* e = &bytes[header_end + i * entry_size];  // B, G, R(, reserved)
            palette[i * 3] = e[2], palette[i * 3 + 1] = e[1], palette[i * 3 + 2] = e[0];
        }
        // Some writers point the pixel offset at the palette; PIL then skips it (always counting
        // 4 bytes an entry), and so do we.
        if (data_offset == header_end) data_offset += 4 * count;
    }

    const uint64_t stride = ((uint64_t(width) * uint64_t(bits) + 31) >> 3) & ~uint64_t(3);
    need(data_offset + stride * uint64_t(height));
    Image img = Image::blank(int(width), int(height));
    for (int64_t y = 0; y < height; ++y) {
        const uint8_t* row = &bytes[data_offset + stride * uint64_t(top_down ? y : height - 1 - y)];
        uint8_t* out = &img.rgb[size_t(y * width) * 3];
        for (int64_t x = 0; x < width; ++x, out += 3) {
            if (bits <= 8) {
                const int64_t bit = x * bits;
                const int index = (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
                std::memcpy(out, &palette[size_t(index) * 3], 3);
            } else if (bits == 16) {
                const uint32_t v = uint32_t(row[x * 2] | row[x * 2 + 1] << 8);
                out[0] = green6 ? widen(v >> 11 & 31, 31) : widen(v >> 10 & 31, 31);
                out[1] = green6 ? widen(v >> 5 & 63, 63) : widen(v >> 5 & 31, 31);
                out[2] = widen(v & 31, 31);
            } else {
                const uint8_t* p = row + x * (bits / 8);
                out[0] = p[r_at], out[1] = p[g_at], out[2] = p[b_at];
            }
        }
    }
    return img;
}

}  // namespace dimple::codec
