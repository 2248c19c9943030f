// Image input for the vision path: JPEG, PNG, GIF (first frame), BMP and WebP, from a file, from
// memory or from a base64 data: URL, always converted to 8-bit RGB the way PIL's
// `Image.open(...).convert("RGB")` does, because that is what the original processor fed the model.
// So an alpha channel is dropped (not composited), and EXIF orientation is NOT applied: Image.open
// does not rotate, and the model was run on the pixels as stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dimple {

// An 8-bit RGB picture: rows top to bottom, pixels interleaved (HWC).
struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;

    static Image blank(int width, int height);  // zero-filled
};

// Bounds checked against the size a file declares in its header, before any pixel buffer is
// allocated: a few hundred bytes claiming 100000x100000 pixels (a decompression bomb) is refused
// without touching the memory it asks for.
struct ImageLimits {
    int max_side = 16384;
    int64_t max_pixels = int64_t(64) << 20;
    size_t max_file_bytes = size_t(256) << 20;
    // Called with the declared width and height once they pass the limits, before any pixel is
    // decoded: a server reserves the decoding's memory here (and may throw to refuse it).
    std::function<void(int64_t width, int64_t height)> before_decode;
};

// Reads and decodes an image file; the format comes from the leading bytes, not the extension.
Image load_image(const std::string& path, const ImageLimits& limits = {});
// Decodes an encoded image held in memory; `label` names it in errors.
Image decode_image(std::span<const uint8_t> bytes, const std::string& label,
                   const ImageLimits& limits = {});
// Decodes `data:<media type>;base64,<payload>` as sent in chat requests. The media type is not
// trusted; the payload's own leading bytes decide the format.
Image decode_data_url(std::string_view url, const ImageLimits& limits = {});

// Standard base64 (RFC 4648 alphabet). Whitespace is skipped and the final padding may be left
// out, as some clients do; anything else that is not in the alphabet is an error.
std::vector<uint8_t> decode_base64(std::string_view text);

}  // namespace dimple
