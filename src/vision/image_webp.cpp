// WebP through libwebp with its default decoding options (fancy upsampling, no dithering), which
// PIL 9.4 also uses through the same Debian libwebp. PIL goes through WebPAnimDecoder even for a
// still picture, but for one frame on a fresh canvas that is a plain decode to RGBA; alpha is
// then dropped and the colour samples are unchanged.
#include <webp/decode.h>

#include "core/error.h"
#include "vision/image_codecs.h"

namespace dimple::codec {

Image decode_webp(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits) {
    WebPBitstreamFeatures features;
    const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
    check(status == VP8_STATUS_OK, label, ": bad WebP (libwebp status ", int(status), ")");
    // Compositing the first frame of an animation needs libwebpdemux; such files are rare as
    // model inputs, so they are refused rather than half supported.
    check(!features.has_animation, label, ": animated WebP is not supported");
    check_image_size(features.width, features.height, limits, label);
    Image img = Image::blank(features.width, features.height);
    const bool ok = WebPDecodeRGBInto(bytes.data(), bytes.size(), img.rgb.data(), img.rgb.size(),
                                      img.width * 3) != nullptr;
    check(ok, label, ": bad WebP: the picture data does not decode");
    return img;
}

}  // namespace dimple::codec
