"""AES-256-GCM encryption at rest: round trip, random nonces, tamper and purpose separation."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khaibao.core import crypto

KEY = b"test-secret-key-0123456789abcdef-0123456789"
OTHER_KEY = b"another-secret-key-0123456789abcdef"


def test_round_trip_and_format():
    token = crypto.encrypt("046090001234", KEY, "id")
    assert crypto.decrypt(token, KEY, "id") == "046090001234"
    assert "046090001234" not in token and "=" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert raw[0] == crypto.VERSION and len(raw) == 1 + 12 + len("046090001234") + 16


def test_each_encryption_uses_a_new_nonce():
    assert crypto.encrypt("same", KEY, "id") != crypto.encrypt("same", KEY, "id")


@given(st.text(max_size=200))
def test_round_trip_any_text(text):
    assert crypto.decrypt(crypto.encrypt(text, KEY, "bhyt"), KEY, "bhyt") == text


def test_purpose_and_key_separation():
    token = crypto.encrypt("046090001234", KEY, "id")
    with pytest.raises(ValueError):
        crypto.decrypt(token, KEY, "bhyt")
    with pytest.raises(ValueError):
        crypto.decrypt(token, OTHER_KEY, "id")


def test_tampering_is_detected():
    token = crypto.encrypt("046090001234", KEY, "id")
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        text = base64.urlsafe_b64encode(bytes(altered)).decode().rstrip("=")
        with pytest.raises(ValueError):
            crypto.decrypt(text, KEY, "id")


@pytest.mark.parametrize("token", ["", "not base64 !!", "AQ", "x" * 10])
def test_garbage_is_refused(token):
    with pytest.raises(ValueError):
        crypto.decrypt(token, KEY, "id")


def test_truncated_is_refused():
    token = crypto.encrypt("046090001234", KEY, "id")
    with pytest.raises(ValueError):
        crypto.decrypt(token[:-4], KEY, "id")


def test_key_and_purpose_are_required():
    with pytest.raises(ValueError):
        crypto.encrypt("x", b"short", "id")
    with pytest.raises(ValueError):
        crypto.encrypt("x", KEY, "")
