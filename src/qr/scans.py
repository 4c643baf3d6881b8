"""The one classifier for scanned text: what a scanner (camera, USB reader, keyboard)
delivered — one of our tokens, a venue poster URL, a chip-CCCD QR text or an ID number —
with a clear error for misread, forged and unknown input (token format: tokens.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from khaibao.core.crypto import check_key
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.qr.tokens import (
    HEADERS,
    PREFIX,
    TOKEN_LENGTHS,
    TokenError,
    TokenKind,
    Verified,
    token_error,
    verify,
)
from khaibao.vn.identity import (
    ChipCard,
    IdentityError,
    IdType,
    ParsedId,
    looks_like_chip_cccd,
    parse_chip_cccd,
    parse_id_number,
)

MAX_SCAN_LENGTH = 2000

class ScanKind(StrEnum):
    PERSON_TOKEN = "person_token"  # noqa: S105 (a kind name, not a secret)
    LIVE_TOKEN = "live_token"  # noqa: S105
    VENUE_CODE = "venue_code"
    CHIP_CCCD = "chip_cccd"
    ID_NUMBER = "id_number"
    MISREAD = "misread"
    FORGED = "forged"
    GARBAGE = "garbage"


# What was read, in words (the audit log shows them; catalog msgids).
SCAN_KIND_LABELS: dict[str, str] = {
    ScanKind.PERSON_TOKEN: N_("Mã QR cá nhân"),
    ScanKind.LIVE_TOKEN: N_("Mã QR động trên ứng dụng"),
    ScanKind.VENUE_CODE: N_("Mã QR điểm đến"),
    ScanKind.CHIP_CCCD: N_("Mã QR trên thẻ CCCD"),
    ScanKind.ID_NUMBER: N_("Số giấy tờ nhập tay"),
    ScanKind.MISREAD: N_("Đọc lỗi"),
    ScanKind.FORGED: N_("Mã giả mạo hoặc không hợp lệ"),
    ScanKind.GARBAGE: N_("Không phải mã của hệ thống"),
}

_TOKEN_SCAN_KINDS = {TokenKind.PERSON: ScanKind.PERSON_TOKEN, TokenKind.LIVE: ScanKind.LIVE_TOKEN,
                     TokenKind.VENUE: ScanKind.VENUE_CODE}


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scanner (camera, USB reader, keyboard) delivered, classified.

    ``payload`` is a :class:`Verified` for tokens, a :class:`ChipCard` or a
    :class:`ParsedId`; ``error`` is set for misread, forged and garbage. ``origin`` is
    the scheme://host[:port] of a scanned venue URL — callers must refuse other origins.
    """

    kind: ScanKind
    payload: Verified | ChipCard | ParsedId | None = None
    error: InputError | None = None
    origin: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _scan_token(text: str, secret_key: bytes, origin: str | None = None) -> Scan:
    try:
        verified = verify(text, secret_key)
    except TokenError as exc:
        kind = {"token.misread": ScanKind.MISREAD, "token.forged": ScanKind.FORGED}.get(
            exc.code, ScanKind.GARBAGE)
        return Scan(kind, error=exc, origin=origin)
    return Scan(_TOKEN_SCAN_KINDS[verified.kind], verified, origin=origin)


_VENUE_PATH = re.compile(r"(?:/[^/]*)*/v/([^/?#]+)/?", re.IGNORECASE)


def _scan_url(text: str, secret_key: bytes) -> Scan:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
    match = _VENUE_PATH.fullmatch(parts.path)
    host = (parts.hostname or "").lower()
    if not host or match is None:
        return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443}[scheme]
    origin = f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")
    scan = _scan_token(match.group(1), secret_key, origin)
    if scan.ok and scan.kind is not ScanKind.VENUE_CODE:
        # Only venue codes belong in a /v/ URL.
        return Scan(ScanKind.GARBAGE, error=token_error("token.unknown_kind"), origin=origin)
    return scan


def classify_scan(text: str | None, secret_key: bytes) -> Scan:
    """Classify anything a scanner or keyboard delivered. Never raises on bad input."""
    check_key(secret_key)
    raw = (text or "").strip().strip("\x00\x02\x03")
    if not raw or len(raw) > MAX_SCAN_LENGTH:
        return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
    if "|" in raw:
        if not looks_like_chip_cccd(raw):
            return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
        try:
            return Scan(ScanKind.CHIP_CCCD, parse_chip_cccd(raw))
        except IdentityError as exc:
            return Scan(ScanKind.MISREAD, error=exc)
    if re.match(r"https?://", raw, re.IGNORECASE):
        return _scan_url(raw, secret_key)
    compact = re.sub(r"[\s\-]", "", raw)
    if compact.isascii():  # str.upper() maps some non-ASCII letters to ASCII ones ("ſ" → "S")
        compact = compact.upper()
    # IDs are at most 12 characters, so anything longer with our prefix is a token; so is
    # anything starting with a known header (a truncated read), passport-like or not.
    looks_like_token = compact.isascii() and compact.isalnum() and (
        compact[:4] in HEADERS or len(compact) in TOKEN_LENGTHS
        or (compact.startswith(PREFIX) and len(compact) > 12))
    if looks_like_token:
        return _scan_token(compact, secret_key)
    try:
        parsed = parse_id_number(compact)
    except IdentityError as exc:
        if compact.startswith(PREFIX) and compact.isascii() and compact.isalnum():
            return _scan_token(compact, secret_key)
        if compact.isascii() and compact.isdigit() and len(compact) in (9, 12):
            return Scan(ScanKind.MISREAD, error=exc)
        return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
    if parsed.id_type is IdType.NONE:
        # Nine zeros mean "no ID"; they must never find anybody.
        return Scan(ScanKind.GARBAGE, error=token_error("scan.garbage"))
    return Scan(ScanKind.ID_NUMBER, parsed)
