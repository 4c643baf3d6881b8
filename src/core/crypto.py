"""The product's keys: every key is derived from the application's secret key, one per
purpose, so no two uses share one.

* :func:`subkey`: an HMAC-SHA256 subkey for a label (QR token MACs);
* :func:`keyed_hash`: a keyed hash to store and look up a value (an ID number) without storing
  it;
* :func:`encrypt` / :func:`decrypt`: symmetric encryption of small personal values (ID numbers,
  BHYT numbers) at rest.

Encryption is AES-256-GCM (``cryptography``) under a key derived per *purpose* with
HKDF-SHA256 from the application's secret key (``info = b"khaibao/" + purpose``), so a value
encrypted for one purpose never decrypts for another. Output: URL-safe base64 (no padding) of

    version (1 byte, 0x01) · nonce (12 random bytes) · ciphertext + 16-byte tag

The version byte is also the associated data, so it cannot be swapped either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
NONCE_LENGTH = 12  # 96 bits, the GCM standard
TAG_LENGTH = 16
MIN_SECRET_LENGTH = 16


def check_key(secret_key: bytes) -> bytes:
    """``secret_key`` as bytes, refused when shorter than :data:`MIN_SECRET_LENGTH`."""
    if not isinstance(secret_key, bytes | bytearray) or len(secret_key) < MIN_SECRET_LENGTH:
        raise ValueError(f"secret_key must be at least {MIN_SECRET_LENGTH} bytes")
    return bytes(secret_key)


@lru_cache(maxsize=64)
def subkey(secret_key: bytes, label: str) -> bytes:
    """The HMAC-SHA256 subkey of ``secret_key`` for ``label``."""
    return hmac.new(check_key(secret_key), label.encode(), hashlib.sha256).digest()


def keyed_hash(value: str, secret_key: bytes, purpose: str) -> str:
    """HMAC-SHA256 hex of ``value`` under a subkey for ``purpose`` (e.g. "id_number").

    Lets other modules store and look up values (ID numbers) without storing them.
    """
    if not purpose:
        raise ValueError("purpose is required")
    key = subkey(check_key(secret_key), f"khaibao/keyed-hash/v1/{purpose}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=64)
def _aead(secret_key: bytes, purpose: str) -> AESGCM:
    check_key(secret_key)
    if not purpose:
        raise ValueError("purpose is required")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"khaibao/" + purpose.encode()
    ).derive(secret_key)
    return AESGCM(key)


def encrypt(plaintext: str, secret_key: bytes, purpose: str) -> str:
    """Encrypt ``plaintext`` for ``purpose``; every call gives a different token."""
    header = bytes([VERSION])
    nonce = os.urandom(NONCE_LENGTH)
    sealed = _aead(bytes(secret_key), purpose).encrypt(nonce, plaintext.encode(), header)
    return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode("ascii")


def decrypt(token: str, secret_key: bytes, purpose: str) -> str:
    """Decrypt a token from :func:`encrypt`. Raises ``ValueError`` when it was altered,
    truncated, encrypted under another key or for another purpose."""
    aead = _aead(bytes(secret_key), purpose)
    try:
        text = token.strip()
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (AttributeError, ValueError, binascii.Error) as error:
        raise ValueError("not an encrypted value") from error
    if len(raw) < 1 + NONCE_LENGTH + TAG_LENGTH or raw[0] != VERSION:
        raise ValueError("not an encrypted value (length or version)")
    header, nonce, sealed = raw[:1], raw[1 : 1 + NONCE_LENGTH], raw[1 + NONCE_LENGTH :]
    try:
        return aead.decrypt(nonce, sealed, header).decode()
    except InvalidTag as error:
        raise ValueError("encrypted value was altered or belongs to another key/purpose") from error
