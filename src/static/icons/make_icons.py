"""Draw the Khai Báo app icons (dev tool; the PNGs and the SVG it writes are committed).

The mark: three rounded QR finder patterns and a check mark, in white on the brand green
(#0b6e4f). One geometry feeds both the PNG renderer (Pillow, drawn 4× and downscaled for
anti-aliasing) and the SVG writer, so every size looks the same.

    python src/static/icons/make_icons.py        # needs Pillow: pip install pillow

Outputs beside this file:
    icon-192.png, icon-512.png   purpose "any": rounded square, transparent corners
    icon-maskable-512.png        purpose "maskable": full-bleed green, mark inside the
                                 central 80 % circle (the safe zone)
    apple-touch-icon.png         180×180, full-bleed, no transparency (iOS adds its own mask)
    favicon.svg                  rounded square, scalable
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BRAND = (0x0B, 0x6E, 0x4F)
WHITE = (255, 255, 255)
SUPERSAMPLE = 4

# The mark in unit coordinates (0..1 on each axis).
FINDER = 0.36  # side of a finder pattern
FINDER_RADIUS = 0.09
RING = 0.072  # width of the finder's white ring
EYE = 0.13  # side of the finder's solid centre
EYE_RADIUS = 0.035
CHECK = [(0.555, 0.775), (0.675, 0.895), (0.955, 0.585)]
CHECK_WIDTH = 0.105


def _finders() -> list[tuple[float, float]]:
    far = 1 - FINDER
    return [(0.0, 0.0), (far, 0.0), (0.0, far)]


def _box(origin: float, scale: float, x: float, y: float, side: float) -> list[float]:
    return [origin + x * scale, origin + y * scale, origin + (x + side) * scale,
            origin + (y + side) * scale]


def draw_mark(draw: ImageDraw.ImageDraw, origin: float, scale: float, bg: tuple) -> None:
    """Draw the mark in a square box of side `scale` starting at (origin, origin)."""
    for x, y in _finders():
        draw.rounded_rectangle(_box(origin, scale, x, y, FINDER), FINDER_RADIUS * scale, WHITE)
        inner = FINDER - 2 * RING
        draw.rounded_rectangle(
            _box(origin, scale, x + RING, y + RING, inner),
            max(0.0, FINDER_RADIUS - RING * 0.6) * scale,
            bg,
        )
        off = (FINDER - EYE) / 2
        draw.rounded_rectangle(_box(origin, scale, x + off, y + off, EYE), EYE_RADIUS * scale,
                               WHITE)
    points = [(origin + px * scale, origin + py * scale) for px, py in CHECK]
    width = CHECK_WIDTH * scale
    draw.line(points, fill=WHITE, width=round(width), joint="curve")
    r = width / 2
    for px, py in (points[0], points[-1]):  # round caps
        draw.ellipse([px - r, py - r, px + r, py + r], fill=WHITE)


def render(size: int, *, mark_ratio: float, corner_ratio: float, transparent: bool) -> Image.Image:
    """`mark_ratio`: side of the mark / icon side; `corner_ratio`: background corner radius /
    icon side (0 = full-bleed square)."""
    big = size * SUPERSAMPLE
    mode = "RGBA" if transparent else "RGB"
    img = Image.new(mode, (big, big), (0, 0, 0, 0) if transparent else BRAND)
    draw = ImageDraw.Draw(img)
    if transparent:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], corner_ratio * big, BRAND)
    scale = mark_ratio * big
    draw_mark(draw, (big - scale) / 2, scale, BRAND)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def svg(mark_ratio: float, corner_ratio: float) -> str:
    n = 100.0
    scale = mark_ratio * n
    o = (n - scale) / 2

    def f(v: float) -> str:
        return f"{v:.2f}".rstrip("0").rstrip(".")

    def rect(x: float, y: float, side: float, radius: float, fill: str) -> str:
        return (f'<rect x="{f(o + x * scale)}" y="{f(o + y * scale)}" width="{f(side * scale)}" '
                f'height="{f(side * scale)}" rx="{f(radius * scale)}" fill="{fill}"/>')

    brand = "#{:02x}{:02x}{:02x}".format(*BRAND)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">',
        "<title>Khai Báo</title>",
        f'<rect width="100" height="100" rx="{f(corner_ratio * n)}" fill="{brand}"/>',
    ]
    for x, y in _finders():
        parts.append(rect(x, y, FINDER, FINDER_RADIUS, "#fff"))
        parts.append(rect(x + RING, y + RING, FINDER - 2 * RING,
                          max(0.0, FINDER_RADIUS - RING * 0.6), brand))
        off = (FINDER - EYE) / 2
        parts.append(rect(x + off, y + off, EYE, EYE_RADIUS, "#fff"))
    pts = " ".join(f"{f(o + px * scale)},{f(o + py * scale)}" for px, py in CHECK)
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#fff" '
                 f'stroke-width="{f(CHECK_WIDTH * scale)}" stroke-linecap="round" '
                 'stroke-linejoin="round"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def mark_fits_safe_zone(mark_ratio: float) -> bool:
    """The whole mark (its square box) lies inside the centred circle of 80 % diameter."""
    return mark_ratio / 2 * math.sqrt(2) <= 0.40


def main() -> None:
    any_mark, any_corner = 0.64, 0.22
    maskable_mark = 0.55
    assert mark_fits_safe_zone(maskable_mark)
    render(192, mark_ratio=any_mark, corner_ratio=any_corner, transparent=True).save(
        HERE / "icon-192.png", optimize=True)
    render(512, mark_ratio=any_mark, corner_ratio=any_corner, transparent=True).save(
        HERE / "icon-512.png", optimize=True)
    render(512, mark_ratio=maskable_mark, corner_ratio=0, transparent=False).save(
        HERE / "icon-maskable-512.png", optimize=True)
    render(180, mark_ratio=any_mark, corner_ratio=0, transparent=False).save(
        HERE / "apple-touch-icon.png", optimize=True)
    (HERE / "favicon.svg").write_text(svg(0.68, any_corner), encoding="utf-8")


if __name__ == "__main__":
    main()
