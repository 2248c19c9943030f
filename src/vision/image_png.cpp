// PNG through libpng. PIL has its own PNG reader; on a valid file the samples are the same, and
// what matters is how PIL 9.4 maps each colour type to RGB, measured on PIL itself:
// - 8-bit RGB, RGBA, grey, grey+alpha: alpha dropped, grey replicated;
// - 16-bit RGB, RGBA, grey+alpha: the high byte of each sample (PIL unpacks "RGB;16B" and kin);
// - 16-bit grey: PIL opens it as mode "I" (32-bit integers) and convert("RGB") clips each value to
//   255, so anything from 255 up is white: min(v, 255), not v >> 8;
// - 1/2/4-bit grey: scaled to 0..255 by bit replication (0/255, x85, x17), as libpng expands them;
// - palette: looked up, indices past the palette read PIL's grey ramp; tRNS and gAMA are ignored.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <png.h>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple::codec {

namespace {

// libpng reports a fatal error by longjmp to png_jmpbuf, set in the small functions below that
// call it; they own no C++ objects, so the jump skips no destructor.
struct PngSession {
    png_structp png = nullptr;
    png_infop info = nullptr;
    std::span<const uint8_t> bytes;
    size_t pos = 0;
    char message[256] = {};

    PngSession() = default;
    PngSession(const PngSession&) = delete;
    PngSession& operator=(const PngSession&) = delete;
    ~PngSession() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

[[noreturn]] void on_error(png_structp png, png_const_charp msg) {
    auto* s = static_cast<PngSession*>(png_get_error_ptr(png));
    std::snprintf(s->message, sizeof s->message, "%s", msg);
    png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // e.g. a bad ancillary chunk: skipped, as by PIL

void on_read(png_structp png, png_bytep out, size_t n) {
    auto* s = static_cast<PngSession*>(png_get_io_ptr(png));
    if (n > s->bytes.size() - s->pos) png_error(png, "file is truncated");
    std::memcpy(out, s->bytes.data() + s->pos, n);
    s->pos += n;
}

bool read_info(PngSession& s) {
    if (setjmp(png_jmpbuf(s.png))) return false;
    png_set_read_fn(s.png, &s, on_read);
    // An index past the palette is not an error for PIL (it reads the grey ramp); libpng would
    // otherwise complain about it.
    png_set_check_for_invalid_index(s.png, 0);
    png_read_info(s.png, s.info);
    return true;
}

// Sets the transforms that leave one byte per sample (except 16-bit grey, kept whole so that it
// can be clipped as PIL does) and reads all rows, de-interlaced.
bool read_rows(PngSession& s, int color_type, int depth, png_bytep* rows, size_t expected_rowbytes) {
    if (setjmp(png_jmpbuf(s.png))) return false;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_packing(s.png);
    else if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(s.png);
    else if (color_type != PNG_COLOR_TYPE_GRAY) png_set_strip_16(s.png);  // keeps the high byte
    png_set_interlace_handling(s.png);
    png_read_update_info(s.png, s.info);
    if (png_get_rowbytes(s.png, s.info) != expected_rowbytes) png_error(s.png, "unexpected row layout");
    png_read_image(s.png, rows);
    // No png_read_end: the pixels are complete, and trailing chunks do not change them.
    return true;
}

}  // namespace

Image decode_png(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    PngSession s;
    s.bytes = bytes;
    s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    check(s.png != nullptr, label, ": cannot start the PNG decoder");
    s.info = png_create_info_struct(s.png);
    check(s.info != nullptr, label, ": cannot start the PNG decoder");
    if (!read_info(s)) fail(label, ": bad PNG: ", s.message);

    png_uint_32 w = 0, h = 0;
    int depth = 0, color_type = 0;
    png_get_IHDR(s.png, s.info, &w, &h, &depth, &color_type, nullptr, nullptr, nullptr);
    check_image_size(w, h, limits, label);

    size_t bytes_per_pixel = 0;
    switch (color_type) {
        case PNG_COLOR_TYPE_PALETTE: bytes_per_pixel = 1; break;
        case PNG_COLOR_TYPE_GRAY: bytes_per_pixel = depth == 16 ? 2 : 1; break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: bytes_per_pixel = 2; break;
        case PNG_COLOR_TYPE_RGB: bytes_per_pixel = 3; break;
        case PNG_COLOR_TYPE_RGB_ALPHA: bytes_per_pixel = 4; break;
        default: fail(label, ": bad PNG: colour type ", color_type);
    }
    const size_t rowbytes = size_t(w) * bytes_per_pixel;
    std::vector<uint8_t> raw(rowbytes * h);
    std::vector<png_bytep> rows(h);
    for (size_t y = 0; y < h; ++y) rows[y] = raw.data() + y * rowbytes;
    if (!read_rows(s, color_type, depth, rows.data(), rowbytes)) fail(label, ": bad PNG: ", s.message);

    Palette palette = grey_ramp_palette();
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp entries = nullptr;
        int count = 0;
        png_get_PLTE(s.png, s.info, &entries, &count);
        for (int i = 0; i < count && i < 256; ++i) {
            palette[size_t(i) * 3] = entries[i].red;
            palette[size_t(i) * 3 + 1] = entries[i].green;
            palette[size_t(i) * 3 + 2] = entries[i].blue;
        }
    }

    Image img = Image::blank(int(w), int(h));
    const size_t n = size_t(w) * h;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* p = &raw[i * bytes_per_pixel];
        uint8_t* o = &img.rgb[i * 3];
        switch (color_type) {
            case PNG_COLOR_TYPE_PALETTE: std::memcpy(o, &palette[size_t(p[0]) * 3], 3); break;
            case PNG_COLOR_TYPE_GRAY:
                o[0] = o[1] = o[2] = depth == 16 ? uint8_t(p[0] ? 255 : p[1]) : p[0];  // big-endian
                break;
            case PNG_COLOR_TYPE_GRAY_ALPHA: o[0] = o[1] = o[2] = p[0]; break;
            default: std::memcpy(o, p, 3); break;  // RGB, RGBA
        }
    }
    return img;
}

}  // namespace dimple::codec
