"""What the citizen's scanner (/quet) does with a scanned or typed text.

Every rule about *what* the text is lives in ``scans.classify_scan``; this module only
decides where a citizen may go with it: a venue code of this system (bare, or inside a URL of
our own origin) opens its check-in page; our public poster URLs (/kbyt, /khaibao) open those
pages; everything else gets a message and never a navigation (no open redirect: the path is
built here, never copied from the scanned text).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from khaibao.core.errors import InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.qr import scans, tokens
from khaibao.venues import venues

PUBLIC_PATHS = ("/kbyt", "/khaibao")

_ERRORS = {
    "scan.empty": N_("Hãy nhập hoặc quét mã QR điểm đến."),
    "scan.foreign": N_("Mã QR này không phải của hệ thống Khai Báo."),
    "scan.personal": N_("Đây là mã QR cá nhân, không phải mã điểm đến."),
    "scan.identity": N_("Đây là mã trên giấy tờ cá nhân, không phải mã điểm đến."),
    "scan.venue_retired": N_("Mã QR điểm đến không hợp lệ hoặc đã ngừng sử dụng."),
    "scan.not_venue": N_("Không nhận ra mã vừa quét. Hãy quét mã QR điểm đến dán tại nơi bạn đến."),
}


error = error_maker(_ERRORS)


@dataclass(frozen=True)
class Outcome:
    """Either a local ``path`` to go to, or an ``error`` to show."""

    path: str | None = None
    error: InputError | None = None


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower case, default port dropped (as tokens does)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


async def venue_of_path(path: str, settings) -> venues.VenueView | None:
    """The venue whose check-in page ``path`` is (``/v/{code}``): the pages a poster's
    check-in passes through first (the phone step, the first declaration) name it."""
    parts = urlsplit(path or "").path.split("/")
    if len(parts) != 3 or parts[1] != "v" or not parts[2]:
        return None
    return await venues.by_code(parts[2], settings)


async def resolve(text: str | None, settings) -> Outcome:
    """Where a citizen's scan leads: a local path, or the reason it leads nowhere."""
    ours = origin_of(settings.base_url)
    raw = (text or "").strip()
    if not raw:
        return Outcome(error=error("scan.empty"))
    scan = scans.classify_scan(raw, settings.secret_key)
    is_url = raw.lower().startswith(("http://", "https://"))
    url_origin = origin_of(raw) if is_url else None
    if is_url and url_origin != ours:
        return Outcome(error=error("scan.foreign"))
    kind = scan.kind
    if kind is scans.ScanKind.VENUE_CODE and scan.ok:
        assert isinstance(scan.payload, tokens.Verified)
        code = tokens.make_token(tokens.TokenKind.VENUE, scan.payload.reference,
                                 settings.secret_key)
        if await venues.by_code(code, settings) is None:
            return Outcome(error=error("scan.venue_retired"))
        return Outcome(path=f"/v/{code}")
    if is_url and scan.origin is None:
        path = urlsplit(raw).path.rstrip("/")
        if path in PUBLIC_PATHS:
            return Outcome(path=path)
    if kind in (scans.ScanKind.PERSON_TOKEN, scans.ScanKind.LIVE_TOKEN):
        return Outcome(error=error("scan.personal"))
    if kind in (scans.ScanKind.CHIP_CCCD, scans.ScanKind.ID_NUMBER):
        return Outcome(error=error("scan.identity"))
    if kind in (scans.ScanKind.MISREAD, scans.ScanKind.FORGED) and scan.error is not None:
        return Outcome(error=scan.error)
    return Outcome(error=error("scan.not_venue"))
