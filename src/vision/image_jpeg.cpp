// JPEG through libjpeg-turbo, left at the library defaults that PIL also keeps unless draft() is
// called: the accurate integer IDCT (JDCT_ISLOW) and fancy (smooth) chroma upsampling. PIL 9.4 on
// Debian links the same libjpeg62-turbo, so the decoded pixels are the same bytes.
#include <csetjmp>
#include <cstdio>  // jpeglib.h uses FILE without including it

#include <jpeglib.h>
#include <jerror.h>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple::codec {

namespace {

// A progressive file may hold thousands of tiny scans, each of which re-runs the whole decoder: a
// CPU bomb in a few kilobytes. Real encoders write about ten; libjpeg-turbo's own tools cap at 500.
constexpr int kMaxScans = 500;

// libjpeg reports a fatal error through error_exit, which must not return: it longjmps to the
// setjmp of the small function below that made the libjpeg call. Those functions own no C++
// objects, so the jump skips no destructor.
struct JpegSession {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr errors{};
    jpeg_progress_mgr progress{};
    std::jmp_buf jump{};
    char message[JMSG_LENGTH_MAX] = {};

    JpegSession() = default;
    JpegSession(const JpegSession&) = delete;
    JpegSession& operator=(const JpegSession&) = delete;
    ~JpegSession() { jpeg_destroy_decompress(&cinfo); }  // a no-op on a never-created cinfo
};

JpegSession& session_of(j_common_ptr c) { return *static_cast<JpegSession*>(c->client_data); }

[[noreturn]] void on_error(j_common_ptr c) {
    c->err->format_message(c, session_of(c).message);
    std::longjmp(session_of(c).jump, 1);
}

// A file cut short is only a warning to libjpeg, which pads the picture with grey; PIL refuses
// it ("image file is truncated"), and so do we. Other warnings, such as stray bytes before a
// marker, are tolerated by both.
void on_message(j_common_ptr c, int level) {
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) on_error(c);
}

void on_progress(j_common_ptr c) {
    auto* d = reinterpret_cast<j_decompress_ptr>(c);
    if (d->input_scan_number > kMaxScans) {
        std::snprintf(session_of(c).message, sizeof session_of(c).message, "more than %d progressive scans",
                      kMaxScans);
        std::longjmp(session_of(c).jump, 1);
    }
}

bool read_header(JpegSession& s, std::span<const uint8_t> bytes) {
    s.cinfo.err = jpeg_std_error(&s.errors);
    s.errors.error_exit = on_error;
    s.errors.emit_message = on_message;
    s.cinfo.client_data = &s;
    if (setjmp(s.jump)) return false;
    jpeg_create_decompress(&s.cinfo);  // keeps err and client_data, clears the rest
    s.progress.progress_monitor = on_progress;
    s.cinfo.progress = &s.progress;
    jpeg_mem_src(&s.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&s.cinfo, TRUE);
    return true;
}

// Decodes every scanline into `out` (output_components bytes per pixel).
bool read_pixels(JpegSession& s, uint8_t* out) {
    if (setjmp(s.jump)) return false;
    jpeg_start_decompress(&s.cinfo);
    const size_t stride = size_t(s.cinfo.output_width) * size_t(s.cinfo.output_components);
    while (s.cinfo.output_scanline < s.cinfo.output_height) {
        JSAMPROW row = out + size_t(s.cinfo.output_scanline) * stride;
        jpeg_read_scanlines(&s.cinfo, &row, 1);
    }
    // No jpeg_finish_decompress: it would insist on the EOI marker, and a picture whose last
    // scanline arrived is complete even when a sloppy encoder left that marker out.
    return true;
}

// PIL reads every 4-channel JPEG as Adobe-style inverted CMYK ("CMYK;I": C = 255 - stored), then
// converts with R = (255 - K) - C * (255 - K) / 255, that division rounded as its integer
// MULDIV255 does: t = a * b + 128, (t + (t >> 8)) >> 8.
uint8_t cmyk_channel(uint8_t stored_c, uint8_t stored_k) {
    const int c = 255 - stored_c, not_k = stored_k;  // 255 - K, with K = 255 - stored_k
    const int t = c * not_k + 128;
    const int v = not_k - ((t + (t >> 8)) >> 8);
    return uint8_t(v < 0 ? 0 : v);
}

}  // namespace

Image decode_jpeg(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    JpegSession s;
    if (!read_header(s, bytes)) fail(label, ": bad JPEG: ", s.message);
    check_image_size(s.cinfo.image_width, s.cinfo.image_height, limits, label);
    // PIL picks its mode from the component count alone: 1 is L, 3 is RGB (libjpeg converting
    // from YCbCr when the file says so), 4 is CMYK (libjpeg converting from YCCK).
    const int channels = s.cinfo.num_components;
    switch (channels) {
        case 1: s.cinfo.out_color_space = JCS_GRAYSCALE; break;
        case 3: s.cinfo.out_color_space = JCS_RGB; break;
        case 4: s.cinfo.out_color_space = JCS_CMYK; break;
        default: fail(label, ": JPEG with ", channels, " colour components is not supported");
    }
    // libjpeg's defaults, set anyway because the pixels depend on them: PIL changes them only in
    // draft mode, which the original processor never used.
    s.cinfo.dct_method = JDCT_ISLOW;
    s.cinfo.do_fancy_upsampling = TRUE;
    const int w = int(s.cinfo.image_width), h = int(s.cinfo.image_height);
    Image img = Image::blank(w, h);
    if (channels == 3) {
        if (!read_pixels(s, img.rgb.data())) fail(label, ": bad JPEG: ", s.message);
        return img;
    }
    std::vector<uint8_t> raw(size_t(w) * size_t(h) * size_t(channels));
    if (!read_pixels(s, raw.data())) fail(label, ": bad JPEG: ", s.message);
    const size_t n = size_t(w) * size_t(h);
    for (size_t i = 0; i < n; ++i) {
        uint8_t* o = &img.rgb[i * 3];
        if (channels == 1) {
            o[0] = o[1] = o[2] = raw[i];
        } else {
            const uint8_t* p = &raw[i * 4];
            for (int c = 0; c < 3; ++c) o[c] = cmyk_channel(p[c], p[3]);
        }
    }
    return img;
}

}  // namespace dimple::codec
