// GIF through giflib: the first frame, as PIL 9.4's Image.open presents it. Its canvas is the
// logical screen, grown if the frame reaches past it; pixels outside the frame hold the frame's
// transparent index when its graphic control extension names one, otherwise index 0. Indices go
// through the frame's local palette, else the global one, else none: a missing palette or an index
// past its end reads PIL's grey ramp.
#include <algorithm>
#include <cstring>
#include <memory>

#include <gif_lib.h>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple::codec {

namespace {

struct Reader {
    std::span<const uint8_t> bytes;
    size_t pos = 0;
};

int on_read(GifFileType* gif, GifByteType* out, int n) {
    auto* r = static_cast<Reader*>(gif->UserData);
    const size_t k = std::min(size_t(n < 0 ? 0 : n), r->bytes.size() - r->pos);
    std::memcpy(out, r->bytes.data() + r->pos, k);
    r->pos += k;
    return int(k);
}

struct GifCloser {
    void operator()(GifFileType* gif) const {
        int ignored = 0;
        DGifCloseFile(gif, &ignored);
    }
};

}  // namespace

Image decode_gif(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    Reader reader{bytes};
    int error = 0;
    std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, on_read, &error));
    if (!gif) fail(label, ": bad GIF: ", GifErrorString(error));
    auto bad = [&] { fail(label, ": bad GIF: ", GifErrorString(gif->Error)); };

    int transparent = -1;
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) bad();
        if (type == TERMINATE_RECORD_TYPE) fail(label, ": GIF holds no image");
        if (type == EXTENSION_RECORD_TYPE) {
            int code = 0;
            GifByteType* block = nullptr;
            if (DGifGetExtension(gif.get(), &code, &block) == GIF_ERROR) bad();
            // Graphic control: block[0] is the length, then flags and (at 4) the transparent index.
            if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4)
                transparent = (block[1] & 1) ? block[4] : -1;
            while (block)
                if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) bad();
            continue;
        }
        if (type != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(gif.get()) == GIF_ERROR) bad();
        break;
    }

    const GifImageDesc& frame = gif->Image;
    const int64_t fw = frame.Width, fh = frame.Height;
    const int64_t width = std::max<int64_t>(gif->SWidth, frame.Left + fw);
    const int64_t height = std::max<int64_t>(gif->SHeight, frame.Top + fh);
    check_image_size(width, height, limits, label);

    std::vector<uint8_t> index(size_t(width * height), uint8_t(transparent >= 0 ? transparent : 0));
    // Interlaced frames store rows 0, 8, 16.. then 4, 12.. then 2, 6.. then the odd ones.
    constexpr int kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
    const int passes = frame.Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; ++pass) {
        const int64_t start = frame.Interlace ? kStart[pass] : 0, step = frame.Interlace ? kStep[pass] : 1;
        for (int64_t y = start; y < fh; y += step) {
            GifPixelType* row = &index[size_t((frame.Top + y) * width + frame.Left)];
            if (fw > 0 && DGifGetLine(gif.get(), row, int(fw)) == GIF_ERROR) bad();
        }
    }

    Palette palette = grey_ramp_palette();
    const ColorMapObject* map = frame.ColorMap ? frame.ColorMap : gif->SColorMap;
    if (map)
        for (int i = 0; i < map->ColorCount && i < 256; ++i) {
            palette[size_t(i) * 3] = map->Colors[i].Red;
            palette[size_t(i) * 3 + 1] = map->Colors[i].Green;
            palette[size_t(i) * 3 + 2] = map->Colors[i].Blue;
        }
    Image img = Image::blank(int(width), int(height));
    for (size_t i = 0; i < index.size(); ++i) std::memcpy(&img.rgb[i * 3], &palette[size_t(index[i]) * 3], 3);
    return img;
}

}  // namespace dimple::codec
