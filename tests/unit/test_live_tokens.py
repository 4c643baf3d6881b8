"""Live QR tokens (kind "L"): keyed by a device key, bound to a 30 s step (tokens.verify_live)."""

from __future__ import annotations

import secrets

import pytest

from khaibao.qr.scans import ScanKind, classify_scan
from khaibao.qr.tokens import (
    LIVE_SKEW_SECONDS,
    LIVE_STEP_SECONDS,
    TokenError,
    TokenKind,
    Verified,
    check_char,
    issue_live_token,
    live_step,
    make_token,
    new_device_reference,
    verify,
    verify_live,
)

SERVER_KEY = b"server-secret-key-0123456789abcdef"
DEVICE_KEY = secrets.token_bytes(32)
REF = "7M2Q9XKD4R"
NOW = 1_790_000_000.0


def lookup(ref: str) -> bytes | None:
    return DEVICE_KEY if ref == REF else None


def code_of(token: str, now: float = NOW) -> str:
    with pytest.raises(TokenError) as info:
        verify_live(token, lookup, now)
    return info.value.code


def test_known_vector_matches_the_phone() -> None:
    """A fixed vector: the phone's code (static/js/live_qr.js) must give the same bytes;
    tests/e2e/test_live_qr.py checks that the server accepts what the phone computes."""
    token = issue_live_token(REF, bytes(range(32)), 12345)
    assert token == make_token(TokenKind.LIVE, REF, bytes(range(32)), 12345)
    assert token == "KB1L7M2Q9XKD4R0000C1SQ3SKJ2D7NW4MSH686"
    assert check_char(token[:-1]) == token[-1]


def test_structure_is_classified_without_the_device_key() -> None:
    token = issue_live_token(REF, DEVICE_KEY, live_step(NOW))
    assert verify(token, SERVER_KEY) == Verified(TokenKind.LIVE, REF, live_step(NOW))
    scan = classify_scan(token, SERVER_KEY)
    assert scan.kind is ScanKind.LIVE_TOKEN and scan.ok
    # person tokens still need the server key
    person = make_token(TokenKind.PERSON, REF, SERVER_KEY)
    assert classify_scan(person, b"another-server-key-xyz").kind is ScanKind.FORGED


def test_current_step_accepted_with_small_skew() -> None:
    step = live_step(NOW)
    start = step * LIVE_STEP_SECONDS
    token = issue_live_token(REF, DEVICE_KEY, step)
    for now in (start, start + 29.9, start - LIVE_SKEW_SECONDS,
                start + LIVE_STEP_SECONDS + LIVE_SKEW_SECONDS - 0.1):
        assert verify_live(token, lookup, now).step == step


@pytest.mark.parametrize("age", [40, 41, 60, 3600])
def test_screenshot_older_than_40_s_is_expired(age: int) -> None:
    taken = NOW - age
    token = issue_live_token(REF, DEVICE_KEY, live_step(taken))
    assert code_of(token) == "token.expired"


def test_future_step_is_expired_too() -> None:
    token = issue_live_token(REF, DEVICE_KEY, live_step(NOW) + 2)
    assert code_of(token) == "token.expired"


def test_wrong_key_or_unknown_device_is_forged() -> None:
    step = live_step(NOW)
    assert code_of(issue_live_token(REF, secrets.token_bytes(32), step)) == "token.forged"
    other = new_device_reference()
    assert other != REF and len(other) == 10
    assert code_of(issue_live_token(other, DEVICE_KEY, step)) == "token.forged"


def test_person_token_is_not_a_live_token() -> None:
    assert code_of(make_token(TokenKind.PERSON, REF, SERVER_KEY)) == "token.unknown_kind"


def test_expired_message_is_vietnamese_first() -> None:
    with pytest.raises(TokenError) as info:
        verify_live(issue_live_token(REF, DEVICE_KEY, 1), lookup, NOW)
    assert info.value.message("vi") == "Mã đã hết hạn — mở lại ứng dụng."
    assert info.value.message("en") == "This code has expired — open the app again."
