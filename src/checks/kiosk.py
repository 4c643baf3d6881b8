"""Checkpoint kiosks: a shared computer or tablet where anyone can declare.

An officer turns a device into a kiosk of one checkpoint: a long-lived kiosk session (kind
``kiosk``, subject = the checkpoint) in its own cookie. Each person using the kiosk gets a
*visit*: a short-lived session (kind ``kiosk_visit``) bound to that kiosk, holding the
verified phone's account (if any) and the persons just declared. Sessions are never updated
in place: each step ends the old visit and starts a new one. Ending the visit ("Xong", the
idle reset) deletes it on the server, so nothing of the previous person stays reachable.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from khaibao.core import sessions
from khaibao.tables import AuditEntry, Checkpoint

KIOSK_KIND = "kiosk"
VISIT_KIND = "kiosk_visit"
KIOSK_LIFETIME = timedelta(hours=12)
VISIT_LIFETIME = timedelta(minutes=20)
VISIT_IDLE = timedelta(minutes=3)  # a generous bound: the page itself resets after 60 s idle
IDLE_SECONDS = 60


@dataclass(frozen=True)
class Kiosk:
    checkpoint_id: int
    checkpoint_name: str
    officer_id: int | None
    fingerprint: str  # binds visits to this kiosk (a hash of its cookie, never the cookie)


@dataclass(frozen=True)
class Visit:
    account_id: int | None  # the phone verified at the kiosk, if any
    phone: str  # E.164 of that phone ("" without one)
    person_ids: tuple[int, ...]  # the persons whose QR the visitor may see now
    ref: str  # the client_ref of the form this visit may submit (binds it to the visit)


def _fingerprint(raw: str) -> str:
    return hashlib.sha256(("kiosk:" + raw).encode()).hexdigest()[:32]


async def checkpoint_name(checkpoint_id: int) -> str | None:
    row = await Checkpoint.select(Checkpoint.name).where(
        (Checkpoint.id == checkpoint_id) & (Checkpoint.active == True)).first()  # noqa: E712
    return row["name"] if row else None


async def start(checkpoint_id: int, officer_id: int) -> str:
    """A new kiosk session for an active checkpoint; returns the cookie value."""
    if await checkpoint_name(checkpoint_id) is None:
        raise LookupError(f"no active checkpoint {checkpoint_id}")
    return await sessions.start(KIOSK_KIND, checkpoint_id, lifetime=KIOSK_LIFETIME,
                                data={"officer_id": officer_id})


async def load(raw: str | None) -> Kiosk | None:
    """The kiosk of this cookie, or None (none, expired, or its checkpoint closed)."""
    session = await sessions.load(raw)
    if session is None or session.kind != KIOSK_KIND or session.subject_id is None or not raw:
        return None
    name = await checkpoint_name(session.subject_id)
    if name is None:
        return None
    return Kiosk(session.subject_id, name, session.data.get("officer_id"), _fingerprint(raw))


async def end(raw: str | None) -> None:
    await sessions.end(raw)


async def start_visit(kiosk: Kiosk, *, old: str | None = None, account_id: int | None = None,
                      phone: str = "", person_ids: list[int] | tuple[int, ...] = ()) -> str:
    """Replace the kiosk's current visit (if any) by one with this state and a fresh form
    reference."""
    await sessions.end(old)
    return await sessions.start(VISIT_KIND, account_id, lifetime=VISIT_LIFETIME,
                                idle=VISIT_IDLE, data={
                                    "kiosk": kiosk.fingerprint, "phone": phone,
                                    "persons": [int(p) for p in person_ids],
                                    "ref": secrets.token_urlsafe(12)})


async def load_visit(kiosk: Kiosk, raw: str | None) -> Visit | None:
    """The live visit of this kiosk, or None (none, ended, idle, or another kiosk's)."""
    session = await sessions.load(raw)
    if session is None or session.kind != VISIT_KIND:
        return None
    if session.data.get("kiosk") != kiosk.fingerprint:
        return None
    return Visit(session.subject_id, str(session.data.get("phone", "")),
                 tuple(int(p) for p in session.data.get("persons", [])),
                 str(session.data.get("ref", "")))


async def end_visit(raw: str | None) -> None:
    await sessions.end(raw)


async def suggested_checkpoint(officer_id: int, own: int | None,
                               active: list[tuple[int, str]]) -> int | None:
    """The checkpoint the kiosk start page preselects among the ``active`` (id, name): the
    officer's own; for an officer without one (an admin), the checkpoint where they last
    started a kiosk (its audit entry names it; names are unique); else none."""
    if any(checkpoint_id == own for checkpoint_id, _name in active):
        return own
    last = await AuditEntry.select(AuditEntry.place).where(
        (AuditEntry.action == "kiosk.start") & (AuditEntry.actor_kind == "officer")
        & (AuditEntry.actor_id == officer_id)).order_by(AuditEntry.id, ascending=False).first()
    if last is None:
        return None
    return next((checkpoint_id for checkpoint_id, name in active if name == last["place"]),
                None)
