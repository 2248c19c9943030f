// Image decoding: the seed pictures decode, every kind of bad input is a clean dimple::Error, and
// data: URLs work. Pixel parity with PIL is in test_preprocess.cpp (PilParity).
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <iterator>

#include "core/error.h"
#include "testing.h"
#include "vision/image.h"
#include "vision/preprocess.h"

using namespace dimple;

namespace {

std::string seed(const std::string& name) { return std::string(DIMPLE_VISION_SOURCE_DIR) + "/fuzz/seeds/image/" + name; }

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f.good()) << path;
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void put32be(std::vector<uint8_t>& out, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

void png_chunk(std::vector<uint8_t>& out, const char* kind, const std::vector<uint8_t>& data) {
    put32be(out, uint32_t(data.size()));
    std::vector<uint8_t> body(kind, kind + 4);
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    put32be(out, uint32_t(crc32(0, body.data(), uInt(body.size()))));
}

// An 8-bit RGB PNG of the given declared size. With `rows` < height only that many (black) rows
// of data are written: enough for a header test, a truncated file otherwise.
std::vector<uint8_t> png_file(uint32_t width, uint32_t height, uint32_t rows) {
    std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<uint8_t> ihdr;
    put32be(ihdr, width);
    put32be(ihdr, height);
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
    png_chunk(out, "IHDR", ihdr);
    std::vector<uint8_t> raw(size_t(rows) * (size_t(width) * 3 + 1), 0);
    uLongf packed_size = compressBound(uLong(raw.size()));
    std::vector<uint8_t> packed(packed_size);
    EXPECT_EQ(compress(packed.data(), &packed_size, raw.data(), uLong(raw.size())), Z_OK);
    packed.resize(packed_size);
    png_chunk(out, "IDAT", packed);
    png_chunk(out, "IEND", {});
    return out;
}

std::string base64(const std::vector<uint8_t>& bytes) {
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t v = 0;
        for (size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? bytes[i + k] : 0u);
        for (size_t k = 0; k < 4; ++k) out += k <= n ? abc[(v >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

// Runs `f` and returns the dimple::Error message it throws ("" and a test failure if none).
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no dimple::Error thrown";
    return "";
}

}  // namespace

TEST(Image, DecodesEverySeedFormat) {
    const struct {
        const char* name;
        int width, height;
    } cases[] = {{"rgb.jpg", 29, 31},     {"grey_progressive.jpg", 29, 31}, {"cmyk.jpg", 16, 16},
                 {"rgba.png", 20, 20},    {"grey16.png", 16, 16},           {"palette.gif", 24, 16},
                 {"rgb.bmp", 12, 10},     {"lossy.webp", 28, 20},           {"lossless.webp", 16, 16}};
    for (const auto& c : cases) {
        const Image img = load_image(seed(c.name));
        EXPECT_EQ(img.width, c.width) << c.name;
        EXPECT_EQ(img.height, c.height) << c.name;
        EXPECT_EQ(img.rgb.size(), size_t(c.width) * size_t(c.height) * 3) << c.name;
        // The same bytes from memory give the same picture.
        EXPECT_EQ(decode_image(read_bytes(seed(c.name)), c.name).rgb, img.rgb) << c.name;
    }
}

TEST(Image, RefusesTruncatedFiles) {
    for (const char* name : {"rgb.jpg", "grey_progressive.jpg", "rgba.png", "palette.gif", "rgb.bmp", "lossy.webp"}) {
        const std::vector<uint8_t> bytes = read_bytes(seed(name));
        for (size_t keep : {bytes.size() / 2, size_t(20), size_t(8)}) {
            const std::string msg = error_of([&] { decode_image(std::span(bytes).first(keep), name); });
            EXPECT_NE(msg.find(name), std::string::npos) << msg;
        }
    }
    const std::vector<uint8_t> png = png_file(40, 30, 10);  // declares 30 rows, holds 10
    EXPECT_NE(error_of([&] { decode_image(png, "short.png"); }).find("bad PNG"), std::string::npos);
}

TEST(Image, RefusesDecompressionBombsFromTheHeader) {
    // 100000 x 100000 RGB would be 30 GB; the file is ~100 bytes and must be refused from its
    // header, before any allocation (under ASan an attempt would abort, not throw).
    const std::vector<uint8_t> png = png_file(100000, 100000, 1);
    EXPECT_NE(error_of([&] { decode_image(png, "bomb.png"); }).find("pixel limit per side"), std::string::npos);

    // GIF sizes are 16-bit: 65535 x 65535 is the biggest a header can declare.
    std::vector<uint8_t> gif = read_bytes(seed("palette.gif"));
    gif[6] = gif[7] = gif[8] = gif[9] = 0xFF;
    EXPECT_NE(error_of([&] { decode_image(gif, "bomb.gif"); }).find("limit"), std::string::npos);

    std::vector<uint8_t> bmp = read_bytes(seed("rgb.bmp"));
    bmp[18] = 0xA0, bmp[19] = 0x86, bmp[20] = 0x01;  // width 100000
    bmp[22] = 0xA0, bmp[23] = 0x86, bmp[24] = 0x01;  // height 100000
    EXPECT_NE(error_of([&] { decode_image(bmp, "bomb.bmp"); }).find("limit"), std::string::npos);

    // JPEG: rewrite the frame header (SOF) to 65000 x 65000.
    std::vector<uint8_t> jpg = read_bytes(seed("rgb.jpg"));
    for (size_t i = 0; i + 8 < jpg.size(); ++i)
        if (jpg[i] == 0xFF && (jpg[i + 1] == 0xC0 || jpg[i + 1] == 0xC2)) {
            jpg[i + 5] = jpg[i + 7] = 0xFD;
            jpg[i + 6] = jpg[i + 8] = 0xE8;
            break;
        }
    EXPECT_NE(error_of([&] { decode_image(jpg, "bomb.jpg"); }).find("limit"), std::string::npos);

    // The total-pixel limit applies too, and the limits can be tightened.
    ImageLimits small;
    small.max_side = 1000;
    small.max_pixels = 100;
    EXPECT_NE(error_of([&] { load_image(seed("rgb.jpg"), small); }).find("more than the limit"), std::string::npos);
    small.max_file_bytes = 10;
    EXPECT_NE(error_of([&] { load_image(seed("rgb.jpg"), small); }).find("limit"), std::string::npos);
}

TEST(Image, RefusesDegenerateSizes) {
    EXPECT_THROW(decode_image(png_file(0, 10, 0), "zero.png"), Error);
    std::vector<uint8_t> bmp = read_bytes(seed("rgb.bmp"));
    bmp[18] = bmp[19] = 0;  // width 0
    EXPECT_NE(error_of([&] { decode_image(bmp, "zero.bmp"); }).find("zero width"), std::string::npos);

    // 1x1 and 100000x1 pictures: the first decodes but is too small for the processor; the second
    // is over the per-side limit, and with the limit raised, too elongated.
    const Image dot = decode_image(png_file(1, 1, 1), "dot.png");
    EXPECT_EQ(dot.width, 1);
    EXPECT_NE(error_of([&] { preprocess_image(dot, PreprocessorConfig{}); }).find("too small"), std::string::npos);
    const std::vector<uint8_t> line = png_file(100000, 1, 1);
    EXPECT_NE(error_of([&] { decode_image(line, "line.png"); }).find("limit"), std::string::npos);
    ImageLimits wide;
    wide.max_side = 200000;
    const Image long_line = decode_image(line, "line.png", wide);
    EXPECT_EQ(long_line.width, 100000);
    EXPECT_THROW(preprocess_image(long_line, PreprocessorConfig{}), Error);
}

TEST(Image, RefusesWhatIsNotAnImage) {
    const std::string text = "hello, this is not a picture";
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    EXPECT_NE(error_of([&] { decode_image(bytes, "note.txt"); }).find("not a supported image"), std::string::npos);
    EXPECT_NE(error_of([&] { decode_image({}, "nothing"); }).find("empty"), std::string::npos);

    const std::string dir = dtest::temp_dir();
    std::ofstream(dir + "/empty.png").close();
    EXPECT_NE(error_of([&] { load_image(dir + "/empty.png"); }).find("empty"), std::string::npos);
    EXPECT_NE(error_of([&] { load_image(dir + "/missing.png"); }).find("cannot open"), std::string::npos);
    // A right signature with garbage after it fails inside the decoder, still as dimple::Error.
    for (std::string magic : {std::string("\xFF\xD8\xFF\xE0", 4), std::string("\x89PNG\r\n\x1A\n", 8),
                              std::string("GIF89a"), std::string("RIFF\0\0\0\0WEBP", 12), std::string("BM")}) {
        std::vector<uint8_t> junk(magic.begin(), magic.end());
        junk.resize(200, 0x5A);
        EXPECT_THROW(decode_image(junk, "junk"), Error);
    }
}

TEST(Image, Base64) {
    auto text = [](std::string_view s) {
        const std::vector<uint8_t> v = decode_base64(s);
        return std::string(v.begin(), v.end());
    };
    EXPECT_EQ(text("TWFu"), "Man");
    EXPECT_EQ(text("TWE="), "Ma");
    EXPECT_EQ(text("TWE"), "Ma");  // padding left out
    EXPECT_EQ(text("TQ=="), "M");
    EXPECT_EQ(text("TW\r\nFu"), "Man");
    EXPECT_EQ(text(""), "");
    EXPECT_THROW(decode_base64("T"), Error);
    EXPECT_THROW(decode_base64("TW@u"), Error);
    EXPECT_THROW(decode_base64("TQ==TQ=="), Error);
    EXPECT_THROW(decode_base64("TQ==="), Error);
    const std::vector<uint8_t> all = [] {
        std::vector<uint8_t> v;
        for (int i = 0; i < 256; ++i) v.push_back(uint8_t(i));
        return v;
    }();
    for (size_t n = 0; n < 8; ++n) {
        const std::vector<uint8_t> part(all.begin(), all.begin() + long(n));
        EXPECT_EQ(decode_base64(base64(part)), part) << n;
    }
    EXPECT_EQ(decode_base64(base64(all)), all);
}

TEST(Image, DataUrls) {
    const std::vector<uint8_t> png = read_bytes(seed("rgba.png"));
    const Image direct = decode_image(png, "rgba.png");
    const Image via_url = decode_data_url("data:image/png;base64," + base64(png));
    EXPECT_EQ(via_url.width, direct.width);
    EXPECT_EQ(via_url.rgb, direct.rgb);
    // The media type is not trusted: the bytes decide.
    EXPECT_EQ(decode_data_url("data:image/jpeg;base64," + base64(png)).rgb, direct.rgb);

    EXPECT_NE(error_of([] { decode_data_url("data:image/png;base64,iVBO@@@@"); }).find("invalid character"),
              std::string::npos);
    EXPECT_NE(error_of([] { decode_data_url("https://example.com/cat.png"); }).find("only data: URLs"),
              std::string::npos);
    EXPECT_NE(error_of([] { decode_data_url("data:image/png,rawbytes"); }).find("only base64"), std::string::npos);
    EXPECT_NE(error_of([] { decode_data_url("data:image/png;base64"); }).find("no ','"), std::string::npos);
    EXPECT_NE(error_of([] { decode_data_url("data:image/png;base64,"); }).find("empty"), std::string::npos);
    EXPECT_NE(error_of([] { decode_data_url("data:image/png;base64,aGVsbG8="); }).find("not a supported image"),
              std::string::npos);
}
