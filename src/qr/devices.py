"""Device keys for the live QR (mã QR động).

A phone asks for one key per person it shows (:func:`register`): 32 random bytes, returned to
the phone once and stored here only encrypted (crypto.py, purpose ``device-key``). The phone
computes the person's live token every 30 s from it (tokens.py format, static/js/live_qr.js)
— offline too. An officer's scan is checked by :func:`person_for_live_token`: the token's
reference names the key, the MAC proves the phone holds it, the time step that it is fresh.

Keys are revoked when the citizen signs out on that phone (:func:`revoke_for_account` with the
phone's references), removes the device from the list on /qr (:func:`revoke`), or when the
person is deleted (cascade). No HTTP here.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from khaibao.core import clock, crypto, db
from khaibao.qr import tokens
from khaibao.tables import DeviceKey, Person

KEY_BYTES = 32
PURPOSE = "device-key"
MAX_KEYS_PER_PERSON = 10
LABEL_LENGTH = 100


class DeviceNotFound(LookupError):
    """No such key for this account (or already revoked)."""


@dataclass(frozen=True, slots=True)
class NewDeviceKey:
    """What the phone receives once: the key (base64url) and its reference."""

    person_id: int
    reference: str
    key: str
    step_seconds: int = tokens.LIVE_STEP_SECONDS


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: int
    person_id: int
    reference: str
    label: str
    created_at: datetime
    last_seen_at: datetime | None


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


async def register(account_id: int, person_id: int, settings, *, label: str = "",
                   now: datetime | None = None) -> NewDeviceKey:
    """A new live-QR key for one of this account's persons (LookupError for anyone else's).

    Only the newest ``MAX_KEYS_PER_PERSON`` keys of a person stay valid."""
    owned = await Person.exists().where((Person.id == person_id)
                                        & (Person.account == account_id))
    if not owned:
        raise DeviceNotFound(person_id)
    key = secrets.token_bytes(KEY_BYTES)
    moment = _now(now)

    async def insert() -> str:
        reference = tokens.new_device_reference()
        await DeviceKey.insert(DeviceKey(
            person=person_id, account=account_id, reference=reference,
            key_encrypted=crypto.encrypt(_b64(key), settings.secret_key, PURPOSE),
            label=label.strip()[:LABEL_LENGTH], created_at=moment,
        ))
        return reference

    reference = await db.retry_on_unique(insert)
    live = await DeviceKey.select(DeviceKey.id).where(
        (DeviceKey.person == person_id) & DeviceKey.revoked_at.is_null()
    ).order_by(DeviceKey.created_at, ascending=False).order_by(DeviceKey.id, ascending=False)
    stale = [r["id"] for r in live[MAX_KEYS_PER_PERSON:]]
    if stale:
        await DeviceKey.update({DeviceKey.revoked_at: moment}).where(DeviceKey.id.is_in(stale))
    return NewDeviceKey(person_id=person_id, reference=reference, key=_b64(key))


async def list_for_account(account_id: int) -> list[DeviceView]:
    """The account's live keys (not revoked), newest first."""
    rows = await DeviceKey.select(
        DeviceKey.id, DeviceKey.person, DeviceKey.reference, DeviceKey.label,
        DeviceKey.created_at, DeviceKey.last_seen_at,
    ).where((DeviceKey.account == account_id) & DeviceKey.revoked_at.is_null()).order_by(
        DeviceKey.created_at, ascending=False).order_by(DeviceKey.id, ascending=False)
    return [DeviceView(id=r["id"], person_id=r["person"], reference=r["reference"],
                       label=r["label"], created_at=r["created_at"],
                       last_seen_at=r["last_seen_at"]) for r in rows]


async def revoke(account_id: int, device_id: int, *, now: datetime | None = None) -> None:
    """The citizen removes a device key from the list on /qr."""
    rows = await DeviceKey.update({DeviceKey.revoked_at: _now(now)}).where(
        (DeviceKey.id == device_id) & (DeviceKey.account == account_id)
        & DeviceKey.revoked_at.is_null()).returning(DeviceKey.id)
    if not rows:
        raise DeviceNotFound(device_id)


async def revoke_references(account_id: int, references: list[str], *,
                            now: datetime | None = None) -> int:
    """Sign-out on one phone: revoke the keys that phone holds (it sends their references).
    Returns how many were revoked."""
    refs = [r for r in references if isinstance(r, str) and 0 < len(r) <= 16][:50]
    if not refs:
        return 0
    rows = await DeviceKey.update({DeviceKey.revoked_at: _now(now)}).where(
        (DeviceKey.account == account_id) & DeviceKey.reference.is_in(refs)
        & DeviceKey.revoked_at.is_null()).returning(DeviceKey.id)
    return len(rows)


async def person_for_live_token(token: str, settings, *, now: datetime | None = None
                                ) -> int | None:
    """The person id behind a live token; None for an unknown or revoked device key.

    Raises ``tokens.TokenError`` (``token.expired``) for a genuine but stale token and
    (``token.forged``) for a wrong MAC."""
    moment = _now(now)
    verified = tokens.verify(token, settings.secret_key)
    if verified.kind is not tokens.TokenKind.LIVE:
        return None
    rows = await DeviceKey.select(DeviceKey.id, DeviceKey.person, DeviceKey.key_encrypted).where(
        (DeviceKey.reference == verified.reference) & DeviceKey.revoked_at.is_null())
    if not rows:
        return None
    row = rows[0]
    raw = crypto.decrypt(row["key_encrypted"], settings.secret_key, PURPOSE)
    key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    tokens.verify_live(token, lambda ref: key if ref == verified.reference else None,
                       moment.timestamp())
    await DeviceKey.update({DeviceKey.last_seen_at: moment}).where(DeviceKey.id == row["id"])
    return row["person"]
