"""The secret key's fingerprint, kept in the database (``instance_fact``) from the first
start, so a server started with another key refuses to start instead of running on with
every stored secret broken: QR codes already issued would be reported as forged, sessions
and sign-in links would end, and the hashed ID numbers (looking up a person) would no longer
match.

The fingerprint is an HMAC of a fixed label under the key: it tells keys apart and reveals
nothing of the key.
"""

from __future__ import annotations

import hashlib
import hmac

from khaibao.core import db
from khaibao.core.settings import Settings

FACT_NAME = "secret_key_fingerprint"


class SecretKeyChanged(RuntimeError):
    """The secret key is not the one this database was first started with."""


def fingerprint(secret_key: bytes) -> str:
    return hmac.new(secret_key, b"khaibao/secret-key-fingerprint", hashlib.sha256).hexdigest()[:32]


async def require_same_secret_key(settings: Settings) -> None:
    """Store the key's fingerprint on the first start; raise ``SecretKeyChanged`` (one line
    that says what would break) when a later start brings another key."""
    mine = fingerprint(settings.secret_key)
    stored = await db.fetch("SELECT value FROM instance_fact WHERE name = {}", FACT_NAME)
    if not stored:
        await db.execute("INSERT INTO instance_fact (name, value) VALUES ({}, {}) "
                         "ON CONFLICT (name) DO NOTHING", FACT_NAME, mine)
        stored = await db.fetch("SELECT value FROM instance_fact WHERE name = {}", FACT_NAME)
    if not hmac.compare_digest(stored[0]["value"], mine):
        raise SecretKeyChanged(
            "KHAIBAO_SECRET_KEY is not the key this database was first started with: with it "
            "every QR code already issued would be reported as forged, every session and "
            "sign-in link would end, and stored ID numbers would no longer be found. Start "
            "with the original key (or its .secret file)."
        )
