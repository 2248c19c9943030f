#!/usr/bin/env python3
"""Reference image preprocessing with PIL and NumPy, for the engine's parity tests.

The original Dimple processor (transformers' Qwen2-VL image processor) opens pictures with PIL,
converts them to RGB, resizes with PIL's BICUBIC and then rescales and normalizes in NumPy. This
script follows that recipe step by step, without transformers, so that the C++ decoders, resampler
and patch layout can be compared byte for byte against PIL itself on pictures nobody hand-checked.

  pil_preprocess.py image PICTURE OUT_PREFIX [--min-pixels N] [--max-pixels N]
      OUT_PREFIX.rgb.npy (decoded RGB), .resized.npy, .pixels.npy, .grid.npy
  pil_preprocess.py fixtures OUT_DIR [--min-pixels N] [--max-pixels N]
      writes random test pictures in every format the engine reads, the references above for each,
      plus resize-only cases, and OUT_DIR/manifest.txt listing them:
        image FILE               (references FILE.rgb.npy, FILE.resized.npy, ...)
        unsupported FILE         (PIL reads it, the engine refuses it with an error)
        resize NAME WIDTH HEIGHT (NAME.src.npy resized to NAME.out.npy)

Needs PIL 9.4 (Debian's python3-pil, built on the same libjpeg-turbo, libwebp) and NumPy; without
them it exits with status 77, which the tests read as "skip".
"""
import argparse
import io
import math
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dimple_ref.preprocess import smart_resize  # noqa: E402  (the reference's, the one definition)

try:
    import numpy as np
    import PIL
    from PIL import Image
except ImportError as e:
    print(f"pil_preprocess.py: {e}", file=sys.stderr)
    sys.exit(77)
if not PIL.__version__.startswith("9.4."):
    print(f"pil_preprocess.py: PIL {PIL.__version__}, not 9.4", file=sys.stderr)
    sys.exit(77)

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
RESCALE = 1 / 255
PATCH, MERGE, FRAMES = 14, 2, 2


def pixel_values(resized):
    """Rescale (float64, rounded once to float32), normalize in float32, lay out the patch rows."""
    x = (resized.astype(np.float64) * RESCALE).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    x = x.transpose(2, 0, 1)[None].repeat(FRAMES, axis=0)  # (T, C, H, W): one picture, T frames
    _, c, h, w = x.shape
    gh, gw = h // PATCH, w // PATCH
    x = x.reshape(1, FRAMES, c, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(gh * gw, c * FRAMES * PATCH * PATCH)), np.array([[1, gh, gw]], np.int64)


def write_references(picture, prefix, min_pixels, max_pixels):
    rgb = np.asarray(Image.open(picture).convert("RGB"))
    h, w = smart_resize(rgb.shape[0], rgb.shape[1], PATCH * MERGE, min_pixels, max_pixels)
    resized = np.asarray(Image.fromarray(rgb).resize((w, h), Image.BICUBIC))
    values, grid = pixel_values(resized)
    np.save(prefix + ".rgb.npy", rgb)
    np.save(prefix + ".resized.npy", resized)
    np.save(prefix + ".pixels.npy", values)
    np.save(prefix + ".grid.npy", grid)


# ---- Test pictures. Random content mixes smooth ramps with noise, so that resampling both
# ---- interpolates and overshoots into the clipping range.

def random_rgb(rng, h, w, channels=3):
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = (xx * 255 // max(w - 1, 1) + yy * 97 // max(h - 1, 1)) % 256
    noise = rng.integers(0, 256, (h, w, channels))
    mask = rng.random((h, w, 1)) < 0.5
    return np.where(mask, noise, ramp[..., None]).astype(np.uint8)


def png_bytes(w, h, depth, color_type, rows, extra=b"", interlaced=False):
    """A PNG written by hand, for layouts PIL cannot save (16-bit RGB, 2/4-bit, Adam7)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlaced else 0)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


def pack_bits(values, depth):
    bits = "".join(format(int(v), f"0{depth}b") for v in values)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def adam7_rows(pixels, bytes_per_pixel):
    """The sub-image rows of each Adam7 pass, concatenated (8-bit samples only)."""
    rows = []
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            rows += [sub[y].reshape(-1).tobytes() for y in range(sub.shape[0])]
    return rows


def gif_bytes(screen, frame_box, palette, indices, transparent=None):
    """A GIF written by hand with 8-bit LZW literals (a clear code every 200 pixels keeps codes at
    9 bits), so that indices may run past a short palette and the frame may outgrow the screen."""
    x0, y0, fw, fh = frame_box
    bits = max(1, (len(palette) - 1).bit_length())
    pal = bytes(np.array(palette, np.uint8).reshape(-1)) + b"\0" * (3 * ((1 << bits) - len(palette)))
    out = b"GIF89a" + struct.pack("<HHBBB", screen[0], screen[1], 0, 0, 0)
    if transparent is not None:
        out += b"\x21\xf9\x04\x01\x00\x00" + bytes([transparent]) + b"\x00"
    out += b"\x2c" + struct.pack("<HHHHB", x0, y0, fw, fh, 0x80 | (bits - 1)) + pal
    codes, n = [256], 0
    for v in indices.reshape(-1):
        codes.append(int(v))
        n += 1
        if n % 200 == 0:
            codes.append(256)
    codes.append(257)
    acc = nbits = 0
    data = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += 9
        while nbits >= 8:
            data.append(acc & 255)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc & 255)
    out += b"\x08"
    for i in range(0, len(data), 255):
        block = data[i:i + 255]
        out += bytes([len(block)]) + block
    return out + b"\x00\x3b"


def bmp_bytes(w, h, bits, pixel_rows, palette=b"", compression=0, masks=b"", top_down=False, os2=False,
              offset=None):
    """A BMP written by hand (16-bit bitfields, short palettes, the OS/2 header, odd offsets)."""
    stride = ((w * bits + 31) >> 3) & ~3
    rows = [r + b"\0" * (stride - len(r)) for r in pixel_rows]
    if not top_down:
        rows = rows[::-1]
    if os2:  # 12-byte header, 3-byte palette entries, always bottom-up
        header = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        header = struct.pack("<IiiHHIIiiII", 40, w, -h if top_down else h, 1, bits, compression, stride * h, 2835,
                             2835, len(palette) // 4, 0)
    if offset is None:
        offset = 14 + len(header) + len(masks) + len(palette)
    body = header + masks + palette + b"".join(rows)
    return b"BM" + struct.pack("<IHHI", 14 + len(body), 0, 0, offset) + body


def make_fixtures(out_dir, rng):
    pictures = {}

    def save(name, im, **kw):
        buf = io.BytesIO()
        im.save(buf, **kw)
        pictures[name] = buf.getvalue()

    save("down_444.jpg", Image.fromarray(random_rgb(rng, 480, 640)), format="JPEG", quality=90, subsampling=0)
    save("odd_420.jpg", Image.fromarray(random_rgb(rng, 77, 101)), format="JPEG", quality=75)
    save("wide_422.jpg", Image.fromarray(random_rgb(rng, 29, 300)), format="JPEG", subsampling=1)
    save("progressive.jpg", Image.fromarray(random_rgb(rng, 150, 113)), format="JPEG", progressive=True)
    save("grey.jpg", Image.fromarray(random_rgb(rng, 90, 60, 1)[..., 0]), format="JPEG")
    save("cmyk.jpg", Image.fromarray(random_rgb(rng, 64, 48, 4), "CMYK"), format="JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90": PIL's open ignores it, and so must the engine
    save("exif_rotated.jpg", Image.fromarray(random_rgb(rng, 40, 70)), format="JPEG", exif=exif)

    save("rgba.png", Image.fromarray(random_rgb(rng, 40, 50, 4), "RGBA"), format="PNG")
    save("grey_alpha.png", Image.fromarray(random_rgb(rng, 33, 1000, 2), "LA"), format="PNG")
    save("grey.png", Image.fromarray(random_rgb(rng, 28, 28, 1)[..., 0]), format="PNG")
    save("bilevel.png", Image.fromarray(random_rgb(rng, 45, 61, 1)[..., 0] > 127), format="PNG")
    pal = Image.fromarray(random_rgb(rng, 29, 300)).convert("P", palette=Image.ADAPTIVE, colors=200)
    save("palette.png", pal, format="PNG", transparency=5)
    grey16 = (rng.integers(0, 1024, (80, 100)) * rng.integers(0, 2, (80, 100))).astype(np.uint16)
    save("grey16.png", Image.fromarray(grey16), format="PNG")
    rgb16 = rng.integers(0, 65536, (90, 120, 3)).astype(">u2")
    pictures["rgb16.png"] = png_bytes(120, 90, 16, 2, [r.tobytes() for r in rgb16])
    rgba16 = rng.integers(0, 65536, (30, 40, 4)).astype(">u2")
    pictures["rgba16.png"] = png_bytes(40, 30, 16, 6, [r.tobytes() for r in rgba16])
    grey2 = rng.integers(0, 4, (37, 57))
    pictures["grey2.png"] = png_bytes(57, 37, 2, 0, [pack_bits(r, 2) for r in grey2])
    short = struct.pack(">I", 27) + b"PLTE" + bytes(range(100, 127))
    short += struct.pack(">I", zlib.crc32(b"PLTE" + bytes(range(100, 127))))
    pal4 = rng.integers(0, 16, (31, 43))  # a 9-entry palette: indices 9..15 read the grey ramp
    pictures["short_palette4.png"] = png_bytes(43, 31, 4, 3, [pack_bits(r, 4) for r in pal4], short)
    la16 = rng.integers(0, 65536, (29, 31, 2)).astype(">u2")
    pictures["grey_alpha16.png"] = png_bytes(31, 29, 16, 4, [r.tobytes() for r in la16])
    inter = random_rgb(rng, 53, 71)
    pictures["interlaced.png"] = png_bytes(71, 53, 8, 2, adam7_rows(inter, 3), interlaced=True)

    save("frames.gif", Image.fromarray(random_rgb(rng, 61, 97)).convert("P", palette=Image.ADAPTIVE, colors=64),
         format="GIF", transparency=3, interlace=False)
    save("interlaced.gif", Image.fromarray(random_rgb(rng, 70, 45)).convert("P", palette=Image.ADAPTIVE), format="GIF",
         interlace=True)
    frames = [Image.fromarray(random_rgb(rng, 50, 64)).convert("P", palette=Image.ADAPTIVE) for _ in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    pictures["animated.gif"] = buf.getvalue()  # the first frame is the picture
    gif_pal = rng.integers(0, 256, (8, 3))  # 8 entries, indices up to 255
    pictures["outgrown.gif"] = gif_bytes((40, 30), (30, 20, 20, 15), gif_pal, rng.integers(0, 256, (15, 20)),
                                         transparent=7)

    save("rgb24.bmp", Image.fromarray(random_rgb(rng, 70, 131)), format="BMP")
    save("palette8.bmp", Image.fromarray(random_rgb(rng, 64, 64)).convert("P", palette=Image.ADAPTIVE), format="BMP")
    save("rgba32.bmp", Image.fromarray(random_rgb(rng, 35, 30, 4), "RGBA"), format="BMP")
    px565 = rng.integers(0, 65536, (29, 45)).astype("<u2")
    pictures["rgb565.bmp"] = bmp_bytes(45, 29, 16, [r.tobytes() for r in px565], compression=3,
                                       masks=struct.pack("<III", 0xF800, 0x7E0, 0x1F))
    px555 = rng.integers(0, 65536, (31, 33)).astype("<u2")
    pictures["rgb555.bmp"] = bmp_bytes(33, 31, 16, [r.tobytes() for r in px555])
    idx4 = rng.integers(0, 16, (30, 47))  # 5 colours given: indices 5..15 read the grey ramp
    pal_bgrx = bytes(rng.integers(0, 256, 20).astype(np.uint8))
    pictures["short_palette4.bmp"] = bmp_bytes(47, 30, 4, [pack_bits(r, 4) for r in idx4], palette=pal_bgrx,
                                               top_down=True)

    save("bilevel.bmp", Image.fromarray(random_rgb(rng, 31, 50, 1)[..., 0] > 100), format="BMP")
    save("grey8.bmp", Image.fromarray(random_rgb(rng, 40, 30, 1)[..., 0]), format="BMP")
    idx = rng.integers(0, 16, (36, 35))
    pictures["os2_palette4.bmp"] = bmp_bytes(35, 36, 4, [pack_bits(r, 4) for r in idx], os2=True,
                                             palette=bytes(rng.integers(0, 256, 48).astype(np.uint8)))
    # A pixel offset that points at the palette: PIL skips the palette (4 bytes an entry) itself.
    idx = rng.integers(0, 256, (30, 29))
    pictures["offset_quirk.bmp"] = bmp_bytes(29, 30, 8, [bytes(r.astype(np.uint8)) for r in idx], offset=54,
                                             palette=bytes(rng.integers(0, 256, 1024).astype(np.uint8)))

    save("lossy.webp", Image.fromarray(random_rgb(rng, 150, 200)), format="WEBP", quality=80)
    save("lossy_alpha.webp", Image.fromarray(random_rgb(rng, 57, 43, 4), "RGBA"), format="WEBP", quality=70)
    save("lossless.webp", Image.fromarray(random_rgb(rng, 90, 90, 4), "RGBA"), format="WEBP", lossless=True)
    save("tall.webp", Image.fromarray(random_rgb(rng, 5600, 28)), format="WEBP", quality=60)  # aspect 200

    # Read by PIL, refused by the engine: animated WebP and RLE-compressed BMP.
    refused = {}
    buf = io.BytesIO()
    frames = [Image.fromarray(random_rgb(rng, 30, 30)) for _ in range(2)]
    frames[0].save(buf, format="WEBP", save_all=True, append_images=frames[1:], duration=100)
    refused["animated.webp"] = buf.getvalue()
    # Each row: a run of 30 pixels of index 7, then end of line (0, 0); the last ends the bitmap (0, 1).
    rle8 = b"\x1e\x07\x00\x00" * 29 + b"\x1e\x07\x00\x01"
    header = struct.pack("<IiiHHIIiiII", 40, 30, 30, 1, 8, 1, len(rle8), 0, 0, 8, 0)
    palette = bytes(rng.integers(0, 256, 32).astype(np.uint8))
    refused["rle8.bmp"] = b"BM" + struct.pack("<IHHI", 14 + 40 + 32 + len(rle8), 0, 0, 14 + 40 + 32) + header + \
        palette + rle8

    lines = []
    for kind, files in (("image", pictures), ("unsupported", refused)):
        for name, data in files.items():
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(data)
            lines.append(f"{kind} {name}")

    # Resize alone, to sizes smart_resize never picks: up, down, one axis only, extreme factors.
    cases = [((37, 23), (100, 61)), ((300, 200), (17, 260)), ((64, 48), (64, 97)), ((64, 48), (31, 48)),
             ((1000, 30), (7, 30)), ((13, 11), (130, 3)), ((2, 1), (5, 9)), ((250, 333), (249, 334))]
    for i, ((w, h), (tw, th)) in enumerate(cases):
        src = random_rgb(rng, h, w)
        np.save(os.path.join(out_dir, f"resize{i}.src.npy"), src)
        np.save(os.path.join(out_dir, f"resize{i}.out.npy"), np.asarray(Image.fromarray(src).resize((tw, th), Image.BICUBIC)))
        lines.append(f"resize resize{i} {tw} {th}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    one = sub.add_parser("image")
    one.add_argument("picture")
    one.add_argument("prefix")
    fix = sub.add_parser("fixtures")
    fix.add_argument("out_dir")
    for p in (one, fix):
        p.add_argument("--min-pixels", type=int, default=3136)
        p.add_argument("--max-pixels", type=int, default=200704)
    args = ap.parse_args()
    if args.cmd == "image":
        write_references(args.picture, args.prefix, args.min_pixels, args.max_pixels)
        return
    os.makedirs(args.out_dir, exist_ok=True)
    lines = make_fixtures(args.out_dir, np.random.default_rng(20240601))
    for line in lines:
        if line.startswith("image "):
            name = line.split()[1]
            path = os.path.join(args.out_dir, name)
            write_references(path, path, args.min_pixels, args.max_pixels)
    with open(os.path.join(args.out_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
