"""The audit log (nhật ký truy cập): every look at or change of a person's data, append-only.

Citizens see the officer entries about their own persons. ``detail`` is JSON and must never
hold raw ID numbers, phone numbers or QR tokens: pass :func:`fingerprint` of them instead.
:func:`record` refuses details that look like they contain one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.core import clock, db
from khaibao.core.crypto import keyed_hash
from khaibao.tables import AuditEntry

ACTOR_KINDS = ("citizen", "officer", "system", "api")
MAX_DETAIL_LENGTH = 4000
# A number in ``detail`` from here up looks like an ID or phone number and is refused.
PLAIN_NUMBER_LIMIT = 10**8
# A run of 9+ digits not inside a hex string (ID numbers, phones, BHYT social-insurance ids),
# a 15-character BHYT card number, or a Khai Báo token.
_RAW_VALUE = re.compile(
    r"(?<![0-9a-fA-F])\+?\d{9,}(?![0-9a-fA-F])"
    r"|\b[A-Za-z]{2}\d{13}\b"
    r"|KB1[PLV][0-9A-Za-z]{20,}",
    re.IGNORECASE,
)


# Hand-written (db.execute): every officer lookup writes one, building it with Piccolo cost more
# than the write itself.
_INSERT = ("INSERT INTO audit_entry (at, actor_kind, actor_id, action, person, place, detail)"
           " VALUES ({}, {}, {}, {}, {}, {}, {})")


@dataclass(frozen=True)
class AuditView:
    at: datetime
    action: str
    actor_kind: str
    place: str
    person_id: int | None
    actor_id: int | None = None
    detail: dict[str, Any] | None = None


def fingerprint(value: str, secret_key: bytes) -> str:
    """A short keyed hash to put in ``detail`` instead of an ID number, phone or token.
    One in ~1,800 would be 16 decimal digits, which :func:`record` (rightly) takes for a raw
    number and refuses: those start with "a" instead (still hex, still deterministic)."""
    digest = keyed_hash(value, secret_key, "audit")[:16]
    return "a" + digest[1:] if digest.isdigit() else digest


def refuse_raw_values(value: Any) -> None:
    """Raise ValueError when ``value`` holds something that looks like a raw ID number, phone
    number or QR token: the audit log stores fingerprints of those, never the values."""
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_raw_values(str(key))
            refuse_raw_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_raw_values(item)
    elif (isinstance(value, int) and not isinstance(value, bool)
          and abs(value) >= PLAIN_NUMBER_LIMIT):
        raise ValueError("audit detail must not contain raw ID or phone numbers")
    elif isinstance(value, str) and _RAW_VALUE.search(value):
        raise ValueError("audit detail must not contain raw ID numbers, phone numbers or "
                         "tokens; use audit.fingerprint()")


async def record(action: str, *, actor_kind: str, actor_id: int | None = None,
                 person_id: int | None = None, place: str = "", detail: dict | None = None,
                 now: datetime | None = None) -> None:
    """Append one entry. ``place`` is where it happened (a checkpoint's name, "web")."""
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor_kind!r}")
    if not action or len(action) > 40:
        raise ValueError("action must be 1–40 characters")
    refuse_raw_values(detail or {})
    refuse_raw_values(place)
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_DETAIL_LENGTH:
        raise ValueError("audit detail is too long")
    await db.execute(_INSERT, now or clock.now(), actor_kind, actor_id, action,
                     person_id, place[:200], text)


def _detail(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def for_persons(person_ids: Sequence[int], *, actor_kinds: Sequence[str] = ("officer",),
                      actions: Sequence[str] | None = None, limit: int = 50
                      ) -> list[AuditView]:
    """The latest entries about these persons by these kinds of actors (of these actions,
    when given), newest first, with their details."""
    ids = list(dict.fromkeys(person_ids))
    if not ids or not actor_kinds or (actions is not None and not actions):
        return []
    where = AuditEntry.person.is_in(ids) & AuditEntry.actor_kind.is_in(list(actor_kinds))
    if actions is not None:
        where &= AuditEntry.action.is_in(list(actions))
    rows = await AuditEntry.select(
        AuditEntry.at, AuditEntry.action, AuditEntry.actor_kind, AuditEntry.place,
        AuditEntry.person, AuditEntry.actor_id, AuditEntry.detail,
    ).where(where).order_by(AuditEntry.at, AuditEntry.id, ascending=False).limit(limit)
    return [AuditView(r["at"], r["action"], r["actor_kind"], r["place"], r["person"],
                      r["actor_id"], _detail(r["detail"])) for r in rows]
