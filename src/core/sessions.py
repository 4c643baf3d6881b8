"""Server-side sessions shared by every server process (they live in the database).

The browser holds a random id; the table keeps only its SHA-256, so a copy of the database
cannot be replayed as live sessions. A new id is issued at every sign-in (no fixation), and
ending a session — or every session of an officer — takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from khaibao.core import clock, db
from khaibao.core.db import aware
from khaibao.tables import WebSession

CITIZEN_LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    kind: str  # citizen | officer | kiosk
    subject_id: int | None
    created_at: datetime
    expires_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


async def start(
    kind: str,
    subject_id: int | None,
    *,
    lifetime: timedelta = CITIZEN_LIFETIME,
    idle: timedelta | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Create a session and return the id to put in the cookie."""
    now = _now(now)
    raw = secrets.token_urlsafe(32)
    await WebSession.insert(
        WebSession(
            id_hash=_hash(raw),
            kind=kind,
            subject_id=subject_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            idle_seconds=int(idle.total_seconds()) if idle else None,
            data=json.dumps(data or {}),
        )
    ).run()
    return raw


# The columns :func:`from_row` needs; callers joining more tables select these too.
COLUMNS = ("s.id, s.kind, s.subject_id, s.created_at, s.last_seen_at, s.expires_at, "
           "s.idle_seconds, s.data")
_LOAD = f"SELECT {COLUMNS} FROM web_session s WHERE s.id_hash = {{}}"  # noqa: S608


def hash_id(raw: str | None) -> str | None:
    """The stored hash of a cookie value, or None for a value no session can have."""
    if not raw or len(raw) > 100:
        return None
    return _hash(raw)


async def load(raw: str | None, *, now: datetime | None = None) -> Session | None:
    """The live session for this cookie value, or None (unknown, expired or idle too long)."""
    id_hash = hash_id(raw)
    if id_hash is None:
        return None
    rows = await db.fetch(_LOAD, id_hash)
    return await from_row(rows[0], now=now) if rows else None


async def from_row(row: dict[str, Any], *, now: datetime | None = None) -> Session | None:
    """The session of a ``web_session`` row (``COLUMNS``): None when it has expired or been
    idle too long (it is deleted then). ``last_seen_at`` is written at most once a minute,
    so most requests read and never write."""
    now = _now(now)
    last_seen = aware(row["last_seen_at"])
    expired = aware(row["expires_at"]) <= now
    idle = row["idle_seconds"] and last_seen + timedelta(seconds=row["idle_seconds"]) <= now
    if expired or idle:
        await db.execute("DELETE FROM web_session WHERE id = {}", row["id"])
        return None
    if now - last_seen >= TOUCH_EVERY:
        await db.execute("UPDATE web_session SET last_seen_at = {} WHERE id = {}", now,
                         row["id"])
    return Session(
        kind=row["kind"],
        subject_id=row["subject_id"],
        created_at=aware(row["created_at"]),
        expires_at=aware(row["expires_at"]),
        data=json.loads(row["data"] or "{}"),
    )


async def end(raw: str | None) -> None:
    if raw:
        await WebSession.delete().where(WebSession.id_hash == _hash(raw)).run()


async def end_all(kind: str, subject_id: int) -> int:
    """End every session of one subject (an officer disabled, a phone signed out everywhere)."""
    deleted = await WebSession.delete().where(
        (WebSession.kind == kind) & (WebSession.subject_id == subject_id)
    ).returning(WebSession.id).run()
    return len(deleted)


async def end_others(kind: str, subject_id: int, keep_raw: str | None) -> int:
    """End every session of one subject but the one with cookie value ``keep_raw`` (a
    credential revoked from this device: every other device is signed out)."""
    keep = hash_id(keep_raw) or ""
    deleted = await WebSession.delete().where(
        (WebSession.kind == kind) & (WebSession.subject_id == subject_id)
        & (WebSession.id_hash != keep)
    ).returning(WebSession.id).run()
    return len(deleted)


async def purge_expired(*, now: datetime | None = None) -> int:
    deleted = await WebSession.delete().where(WebSession.expires_at <= _now(now)).returning(
        WebSession.id
    ).run()
    return len(deleted)
