"""QR payloads (person, live person, venue): their format, issuing and verifying. What a
scanner delivered (a token, a chip-CCCD text, an ID number) is told apart in scans.py.

Token format, version 1 (every character is in the QR *alphanumeric* mode set, so a QR
stays small: a person token is 31 characters, QR version 2 at error level M)::

    token     = "KB" version kind reference [step] mac check
    version   = "1"
    kind      = "P" (person, static QR) | "L" (live person, time-bound) | "V" (venue poster)
    reference = 10 chars Crockford base32 (0-9 A-Z without I L O U): 50 random bits from
                `secrets`; the database stores it, a new one is issued when a QR is revoked
    step      = 7 chars Crockford base32, big-endian unsigned integer (kind L only):
                the time step (unix_time // step_seconds) the live token is valid for
    mac       = 16 chars Crockford base32 = first 80 bits of
                HMAC-SHA256(kind_key, "KB1" kind reference [step])
                kind_key = HMAC-SHA256(secret_key, "khaibao/token/v1/" kind-name),
                kind-name = "person" | "venue", so one kind never verifies as another.
                Live tokens: kind_key is the *device key* itself (32 random bytes held by
                one phone and, encrypted, by the server — see devices.py); the reference
                names that device key, and the phone computes the token offline with
                WebCrypto (static/js/live_qr.js). :func:`verify` therefore checks a live
                token's structure and check character only; :func:`verify_live` checks
                its MAC and time step.
    check     = 1 char of 0-9 A-Z: ISO/IEC 7064 MOD 37,36 check character over all the
                characters before it (detects every single-character substitution and
                most adjacent transpositions)

Lengths: P and V tokens 31 characters, L tokens 38. Example shape:
``KB1P`` + ``7M2Q9XKD4R`` + ``0J5T…`` (16) + ``W``.

Reading: surrounding whitespace and CR/LF are dropped, letters are case-insensitive (some
USB readers send lowercase), spaces and "-" inside are ignored (people typing a code off a
poster), and a typed code is read the Crockford way: "O" is "0", "I" and "L" are "1" in the
version, reference, step and MAC (where those letters never occur), and the check character
is compared up to the same confusion (a printed "0" typed as "O", or the other way round),
so a code typed off paper reads the same however its 0/O and 1/I/L were seen. Only the kind
letter is read as typed ("L" is a kind). A bad character set, length or check character is a
*misread* (ask to scan again) and is reported before the MAC is looked at; a good check
character with a wrong MAC is a *forgery* (a change that turns the check character into its
look-alike is also left to the MAC).
A venue poster's QR holds the URL ``{base_url}/v/{venue code}``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from khaibao.core.crypto import MIN_SECRET_LENGTH, check_key, subkey
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_

PREFIX = "KB"
VERSION = "1"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REFERENCE_LENGTH = 10
STEP_LENGTH = 7
MAC_LENGTH = 16  # 80 bits
LIVE_STEP_SECONDS = 30
LIVE_SKEW_SECONDS = 10


class TokenKind(StrEnum):
    PERSON = "person"
    LIVE = "live"
    VENUE = "venue"

    @property
    def letter(self) -> str:
        return _KIND_LETTERS[self]


_KIND_LETTERS = {TokenKind.PERSON: "P", TokenKind.LIVE: "L", TokenKind.VENUE: "V"}
_LETTER_KINDS = {letter: kind for kind, letter in _KIND_LETTERS.items()}
HEADERS = frozenset(PREFIX + VERSION + letter for letter in _LETTER_KINDS)


def token_length(kind: TokenKind) -> int:
    step = STEP_LENGTH if kind is TokenKind.LIVE else 0
    return len(PREFIX) + 2 + REFERENCE_LENGTH + step + MAC_LENGTH + 1


TOKEN_LENGTHS = frozenset(token_length(kind) for kind in TokenKind)


class TokenError(InputError):
    """A scanned or typed QR payload that cannot be used."""


_ERRORS = {
    "token.misread": N_("Đọc lỗi, hãy quét lại."),
    "token.forged": N_("Mã QR không hợp lệ hoặc đã bị sửa."),
    "token.expired": N_("Mã đã hết hạn — mở lại ứng dụng."),
    "token.unknown_kind": N_("Mã QR này không dùng được ở đây."),
    "scan.garbage": N_("Không nhận ra mã vừa quét. Hãy quét mã QR Khai Báo, mã QR trên thẻ CCCD "
                       "hoặc nhập số giấy tờ."),
}


def token_error(code: str) -> TokenError:
    return TokenError(code, _ERRORS[code])


@dataclass(frozen=True, slots=True)
class Verified:
    kind: TokenKind
    reference: str
    step: int | None = None  # live tokens only


def _encode_int(value: int, width: int) -> str:
    if not 0 <= value < 32**width:
        raise ValueError(f"value out of range for {width} base32 characters")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(width)))


def _decode_int(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 32 + CROCKFORD.index(ch)
    return value


def check_char(text: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character over ``text`` (characters 0-9 A-Z)."""
    p = 36
    for ch in text:
        p = (p + CHECK_ALPHABET.index(ch)) % 36 or 36
        p = (p * 2) % 37
    return CHECK_ALPHABET[(37 - p) % 36]


@lru_cache(maxsize=64)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC keyed once per kind key (every scan verifies with the same few): copying it
    is cheaper than keying a new one."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _mac(kind: TokenKind, signed: str, secret_key: bytes) -> str:
    if kind is TokenKind.LIVE:
        mac = hmac.new(check_key(secret_key), digestmod=hashlib.sha256)  # a device key
    else:
        mac = _keyed(subkey(check_key(secret_key), f"khaibao/token/v1/{kind.value}")).copy()
    mac.update(signed.encode())
    digest = mac.digest()[: MAC_LENGTH * 5 // 8]
    return _encode_int(int.from_bytes(digest, "big"), MAC_LENGTH)


def new_reference() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(REFERENCE_LENGTH))


def make_token(kind: TokenKind, reference: str, secret_key: bytes, step: int | None = None) -> str:
    """The token for a stored ``reference`` (e.g. to print a person's QR again)."""
    if len(reference) != REFERENCE_LENGTH or any(c not in CROCKFORD for c in reference):
        raise ValueError("reference must be 10 Crockford base32 characters")
    if (step is not None) != (kind is TokenKind.LIVE):
        raise ValueError("a step is required for live tokens and only for them")
    signed = PREFIX + VERSION + kind.letter + reference
    if step is not None:
        signed += _encode_int(step, STEP_LENGTH)
    body = signed + _mac(kind, signed, secret_key)
    return body + check_char(body)


def issue_person_token(secret_key: bytes) -> tuple[str, str]:
    """A new static person token and its reference (store the reference)."""
    reference = new_reference()
    return make_token(TokenKind.PERSON, reference, secret_key), reference


def issue_venue_code(secret_key: bytes) -> tuple[str, str]:
    """A new venue poster code and its reference (store the reference)."""
    reference = new_reference()
    return make_token(TokenKind.VENUE, reference, secret_key), reference


def issue_live_token(reference: str, device_key: bytes, step: int) -> str:
    """A live token for a device key's reference, bound to one time step (the phone computes
    the same in static/js/live_qr.js; the server only needs this in tests)."""
    return make_token(TokenKind.LIVE, reference, device_key, step)


def new_device_reference() -> str:
    """A fresh reference naming one device key (goes into that device's live tokens)."""
    return new_reference()


def live_step(now: float) -> int:
    """The live-token time step of the unix time ``now``."""
    return int(now // LIVE_STEP_SECONDS)


def verify_live(token: str, key_lookup: Callable[[str], bytes | None], now: float
                ) -> Verified:
    """Check a live token's MAC with its device key and its time step against ``now``.

    ``key_lookup(reference)`` gives the device key, or None (unknown or revoked device:
    *forged*). A token is accepted from ``LIVE_SKEW_SECONDS`` before its step starts to
    ``LIVE_SKEW_SECONDS`` after it ends — a screenshot stops working 30–40 s after it was
    taken; anything outside that is ``token.expired``. Phones correct their clock by the
    server's time when they register (live_qr.js), so the skew can stay small.
    """
    t = _normalize(token)
    if t[:4] in HEADERS and t[3] != TokenKind.LIVE.letter:
        raise token_error("token.unknown_kind")
    verified = verify(t, b"\0" * MIN_SECRET_LENGTH)  # structure only for kind L
    if verified.kind is not TokenKind.LIVE or verified.step is None:
        raise token_error("token.unknown_kind")
    key = key_lookup(verified.reference)
    if key is None or not hmac.compare_digest(
            _mac(TokenKind.LIVE, t[: -MAC_LENGTH - 1], key), t[-MAC_LENGTH - 1: -1]):
        raise token_error("token.forged")
    start = verified.step * LIVE_STEP_SECONDS
    if not start - LIVE_SKEW_SECONDS <= now < start + LIVE_STEP_SECONDS + LIVE_SKEW_SECONDS:
        raise token_error("token.expired")
    return verified


def venue_url(base_url: str, code: str) -> str:
    """What a venue poster's QR holds."""
    return f"{base_url.rstrip('/')}/v/{code}"


_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _read_alike(a: str, b: str) -> bool:
    """Two characters a person may read one for the other (0/O, 1/I/L)."""
    return a.translate(_CROCKFORD_ALIASES) == b.translate(_CROCKFORD_ALIASES)


def _normalize(token: str) -> str:
    """The token as typed or scanned, read the Crockford way (see the module's docstring);
    the check character is left as typed for :func:`verify` to compare."""
    text = re.sub(r"[\s\-]", "", token or "")
    if not text.isascii():
        raise token_error("token.misread")
    text = text.upper()
    if len(text) < 5:
        return text
    return (text[:2] + text[2].translate(_CROCKFORD_ALIASES) + text[3]
            + text[4:-1].translate(_CROCKFORD_ALIASES) + text[-1])


def printed_code(token: str) -> str:
    """A token as printed under its QR for typing: blocks of four characters. The body uses
    no O, I, L or U, and a reader takes 0/O and 1/I/L alike, so no block can be misread
    into another code (static/js/live_qr.js prints a live code the same way)."""
    return " ".join(token[i:i + 4] for i in range(0, len(token), 4))


def verify(token: str, secret_key: bytes) -> Verified:
    """Check a token's form, check character and MAC. Raises :class:`TokenError`."""
    check_key(secret_key)
    t = _normalize(token)
    if (len(t) not in TOKEN_LENGTHS or not t.startswith(PREFIX)
            or any(c not in CHECK_ALPHABET for c in t)
            or not _read_alike(check_char(t[:-1]), t[-1])):
        raise token_error("token.misread")
    kind = _LETTER_KINDS.get(t[3])
    if t[2] != VERSION or kind is None:
        raise token_error("token.unknown_kind")
    body = t[4:-1]
    if len(t) != token_length(kind) or any(c not in CROCKFORD for c in body):
        raise token_error("token.misread")
    reference = body[:REFERENCE_LENGTH]
    step_text = body[REFERENCE_LENGTH:-MAC_LENGTH]
    signed = t[: -MAC_LENGTH - 1]
    if kind is TokenKind.LIVE:  # keyed by a device key: verify_live checks the MAC
        return Verified(kind, reference, _decode_int(step_text))
    if not hmac.compare_digest(_mac(kind, signed, secret_key), t[-MAC_LENGTH - 1: -1]):
        raise token_error("token.forged")
    return Verified(kind, reference, _decode_int(step_text) if step_text else None)


def person_reference(token: str, secret_key: bytes) -> str | None:
    """The stored reference of a genuine static person token; None for anything else."""
    try:
        verified = verify(token, secret_key)
    except TokenError:
        return None
    return verified.reference if verified.kind is TokenKind.PERSON else None
