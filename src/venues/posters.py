"""Printable posters: a venue's check-in QR and the public posters for /kbyt and /khaibao.

One generator for all of them: a :class:`Poster` says what the poster is titled and which
URL its QR holds; the template prints it on A4 with the QR 16 cm wide.

QR choice (differs from qr.py, which is for phone screens): a poster is read from afar, so
what matters is the size of one module. For a given printed size the module is largest when
the QR version (number of modules) is smallest, so the level is **L** (the lowest, 7 %
recovery) to get the smallest version for the URL, and ``boost_error`` then raises the level
as far as that same version allows (never a bigger version). A venue URL (~55–75 bytes) is
version 4: 33 modules + a 4-module quiet zone = 41 modules, so a 16 cm print has ~3.9 mm
modules; a phone camera 2 m away sees that as several pixels — scannable. The quiet zone
stays the standard 4 modules: readers need it, and the poster's margin adds more white.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import segno

from khaibao.core.i18n import N_

ERROR_LEVEL = "l"
BORDER = 4
PRINT_DPI = 300
PRINT_WIDTH_CM = 16
CACHE_SIZE = 512


@dataclass(frozen=True)
class Poster:
    """What a poster shows. ``title``/``subtitle`` are data (a venue's name) or N_-marked
    texts (public posters): ``translate_title`` says which."""

    slug: str  # names the download files
    url: str  # exactly what the QR holds
    title: str
    subtitle: str = ""
    address: str = ""
    instructions_vi: str = ""
    instructions_en: str = ""
    translate_title: bool = False


PUBLIC_POSTERS = {
    "kbyt": (N_("Khai báo y tế"), "/kbyt",
             "Mở camera hoặc ứng dụng Khai Báo, quét mã để khai báo y tế.",
             "Open your camera or the Khai Báo app and scan the code to make your health "
             "declaration."),
    "khaibao": (N_("Khai báo về %(province)s"), "/khaibao",
                "Mở camera hoặc ứng dụng Khai Báo, quét mã để khai báo trước khi vào tỉnh.",
                "Open your camera or the Khai Báo app and scan the code to declare your "
                "arrival before entering the province."),
}
VENUE_INSTRUCTIONS_VI = "Mở camera hoặc ứng dụng Khai Báo, quét mã để check-in."
VENUE_INSTRUCTIONS_EN = "Open your camera or the Khai Báo app and scan the code to check in."


def venue_poster(venue, settings) -> Poster:
    """The poster of a venue (a venues.VenueView)."""
    address = ", ".join(part for part in (venue.address, venue.region_name) if part)
    return Poster(
        slug=f"diem-den-{venue.id}", url=venue.poster_url(settings), title=venue.name,
        subtitle=venue.kind_label, address=address,
        instructions_vi=VENUE_INSTRUCTIONS_VI, instructions_en=VENUE_INSTRUCTIONS_EN,
    )


def public_poster(name: str, settings) -> Poster | None:
    """The public poster ``kbyt`` or ``khaibao``; None for any other name."""
    if name not in PUBLIC_POSTERS:
        return None
    title, path, vi, en = PUBLIC_POSTERS[name]
    return Poster(slug=name, url=settings.base_url.rstrip("/") + path, title=title,
                  instructions_vi=vi, instructions_en=en, translate_title=True)


def make(url: str) -> segno.QRCode:
    """The smallest regular QR for ``url``, error level boosted within that version."""
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=True)


@lru_cache(maxsize=CACHE_SIZE)
def svg(url: str, *, title: str = "") -> str:
    """Inline ``<svg>`` scaling with its container (print CSS sets the size)."""
    markup = make(url).svg_inline(
        title=title or "QR", svgclass="poster-qr", lineclass="qr-modules", omitsize=True,
        border=BORDER, dark="#000", light="#fff",
    )
    return markup.replace("<svg ", '<svg role="img" shape-rendering="crispEdges" ', 1)


@lru_cache(maxsize=CACHE_SIZE)
def svg_file(url: str) -> bytes:
    """A standalone SVG file (XML declaration, a size in millimetres for printing)."""
    out = io.BytesIO()
    code = make(url)
    width = code.symbol_size(border=BORDER)[0]
    module_mm = math.ceil(PRINT_WIDTH_CM * 10 / width * 1000) / 1000  # never under 16 cm
    code.save(out, kind="svg", border=BORDER, dark="#000", light="#fff", unit="mm",
              scale=module_mm, xmldecl=True, title=url)
    return out.getvalue()


@lru_cache(maxsize=CACHE_SIZE)
def png(url: str) -> bytes:
    """A PNG at least 16 cm wide at 300 dpi (whole pixels per module), dpi recorded."""
    code = make(url)
    width = code.symbol_size(border=BORDER)[0]
    scale = math.ceil(PRINT_WIDTH_CM / 2.54 * PRINT_DPI / width)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff",
              dpi=PRINT_DPI)
    return out.getvalue()


def version(url: str) -> int:
    return int(make(url).version)
