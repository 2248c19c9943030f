"""Renders a world scene to an image file's bytes: PIL drawing, aliased or antialiased (4x
supersampled then box-filtered down), saved as PNG or as JPEG of quality 75-95."""
import io

from PIL import Image, ImageDraw

SUPERSAMPLE = 4


def _draw(scene, scale):
    img = Image.new("RGB", (scene.width * scale, scene.height * scale), scene.background)
    d = ImageDraw.Draw(img)
    for o in scene.objects:
        x0, y0 = o.x * scale, o.y * scale
        x1, y1 = (o.x + o.size) * scale - 1, (o.y + o.size) * scale - 1
        if o.shape == "circle":
            d.ellipse([x0, y0, x1, y1], fill=o.rgb)
        elif o.shape == "square":
            d.rectangle([x0, y0, x1, y1], fill=o.rgb)
        else:  # isosceles, pointing up, filling its bounding box
            d.polygon([((x0 + x1) / 2, y0), (x0, y1), (x1, y1)], fill=o.rgb)
    return img


def render(scene, antialias):
    """The scene as a PIL RGB image."""
    if not antialias:
        return _draw(scene, 1)
    big = _draw(scene, SUPERSAMPLE)
    return big.resize((scene.width, scene.height), Image.BOX)


def encode(img, fmt, quality=90):
    """PNG or JPEG bytes of a PIL image."""
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG")
    else:
        img.save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def random_image(rng, scene):
    """(file extension, bytes) with the rendering choices drawn from rng: antialiasing on/off,
    PNG or JPEG (quality 75..95)."""
    img = render(scene, antialias=bool(rng.random() < 0.5))
    if rng.random() < 0.5:
        return "png", encode(img, "png")
    return "jpg", encode(img, "jpeg", quality=int(rng.integers(75, 96)))
