// The per-format decoders behind decode_image (internal to the vision library). Each one turns a
// whole encoded file into RGB exactly as PIL 9.4's `Image.open(f).convert("RGB")` would:
// - an alpha channel is dropped, never composited onto a background;
// - palette indices go through the file's palette, and an index past its end reads PIL's default
//   palette entry, the grey ramp (i, i, i);
// - EXIF orientation is ignored: Image.open does not rotate, so the original processor saw the
//   pixels as stored, and so do we.
// Each decoder checks the declared size with check_image_size before allocating pixels.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "vision/image.h"

namespace dimple::codec {

Image decode_jpeg(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits);
Image decode_png(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits);
Image decode_gif(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits);
Image decode_webp(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits);
// By hand: Debian ships no BMP library that handles the variants PIL reads.
Image decode_bmp(std::span<const uint8_t> bytes, const std::string& label, const ImageLimits& limits);

// Throws unless 0 < width, height <= max_side and width * height <= max_pixels.
void check_image_size(int64_t width, int64_t height, const ImageLimits& limits, const std::string& label);

// 256 RGB entries as PIL keeps a palette: the grey ramp, overwritten by the file's own colours.
using Palette = std::array<uint8_t, 256 * 3>;
Palette grey_ramp_palette();

}  // namespace dimple::codec
