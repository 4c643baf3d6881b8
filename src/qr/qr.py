"""QR codes out: inline SVG for pages, PNG for downloads and printing (``segno``).

Always a regular QR code (``segno.make_qr``; ``segno.make`` would pick a Micro QR for short
payloads, which phone cameras and jsQR cannot read) at error level M, with the standard
quiet zone of 4 modules, black on white. Rendering takes milliseconds, so both outputs are
cached by payload: a person's QR is shown on every visit.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

BORDER = 4  # modules of quiet zone
ERROR_LEVEL = "m"
CACHE_SIZE = 4096


def _make(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error=ERROR_LEVEL)


@lru_cache(maxsize=CACHE_SIZE)
def svg(payload: str, *, title: str = "") -> str:
    """Inline ``<svg>`` markup (no XML declaration) that scales with its container:
    a ``viewBox`` and no fixed size, ``class="qr"``, ``role="img"`` and a ``<title>``
    (escaped) naming what the code is for."""
    markup = _make(payload).svg_inline(
        title=title or "Mã QR",
        svgclass="qr",
        lineclass="qr-modules",
        omitsize=True,
        border=BORDER,
        dark="#000",
        light="#fff",
    )
    return markup.replace("<svg ", '<svg role="img" shape-rendering="crispEdges" ', 1)


@lru_cache(maxsize=CACHE_SIZE)
def png(payload: str, *, scale: int = 10) -> bytes:
    """PNG bytes, ``scale`` pixels per module, black on white, 4-module quiet zone."""
    if not 1 <= scale <= 50:
        raise ValueError("scale must be between 1 and 50")
    out = io.BytesIO()
    _make(payload).save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff")
    return out.getvalue()
