"""Enrollment links: the one-time URL (24 h, single use) an officer opens to register their
first passkey — printed by ``khaibao create-admin`` or handed out by an admin. Only a hash
of the link is stored; issuing a new one revokes the officer's open one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from khaibao.core import audit, clock, db
from khaibao.core.db import aware
from khaibao.officers.officers import OfficerNotFound, OfficerView, error, get
from khaibao.tables import EnrollmentLink

ENROLLMENT_LIFETIME = timedelta(hours=24)


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Enrollment:
    link_id: int
    officer: OfficerView
    expires_at: datetime


async def issue_enrollment(officer_id: int, *, created_by: int | None = None,
                           now: datetime | None = None) -> str:
    """A new one-time enrollment token (24 h); earlier open links of the officer are revoked
    so only the newest link handed out works."""
    officer = await get(officer_id)
    if officer is None:
        raise OfficerNotFound(officer_id)
    if not officer.active:
        raise error("officer.disabled")
    now = _now(now)
    raw = secrets.token_urlsafe(32)
    async with db.transaction():
        await EnrollmentLink.update({EnrollmentLink.revoked_at: now}).where(
            (EnrollmentLink.officer == officer_id) & EnrollmentLink.used_at.is_null()
            & EnrollmentLink.revoked_at.is_null())
        await EnrollmentLink.insert(EnrollmentLink(
            officer=officer_id, token_hash=_hash(raw), created_at=now, created_by=created_by,
            expires_at=now + ENROLLMENT_LIFETIME,
        ))
    await audit.record("officer.enroll_link", actor_kind="officer" if created_by else "system",
                       actor_id=created_by, detail={"officer": officer_id}, now=now)
    return raw


def enrollment_url(settings, raw: str) -> str:
    return f"{settings.base_url}/can-bo/dang-ky/{raw}"


async def find_enrollment(raw: str, *, now: datetime | None = None) -> Enrollment | None:
    """The open enrollment for this token: not used, revoked or expired, officer active."""
    if not raw or len(raw) > 100:
        return None
    row = await EnrollmentLink.select(
        EnrollmentLink.id, EnrollmentLink.officer, EnrollmentLink.expires_at,
    ).where(
        (EnrollmentLink.token_hash == _hash(raw)) & EnrollmentLink.used_at.is_null()
        & EnrollmentLink.revoked_at.is_null()
    ).first()
    if row is None or aware(row["expires_at"]) <= _now(now):
        return None
    officer = await get(row["officer"])
    if officer is None or not officer.active:
        return None
    return Enrollment(row["id"], officer, aware(row["expires_at"]))


async def use_enrollment(link_id: int, *, now: datetime | None = None) -> bool:
    """Mark the link used; False when another request used it first (single use)."""
    updated = await EnrollmentLink.update({EnrollmentLink.used_at: _now(now)}).where(
        (EnrollmentLink.id == link_id) & EnrollmentLink.used_at.is_null()
        & EnrollmentLink.revoked_at.is_null()
    ).returning(EnrollmentLink.id)
    return bool(updated)


async def revoke_enrollments(officer_id: int, *, by: int | None = None,
                             now: datetime | None = None) -> int:
    now = _now(now)
    revoked = await EnrollmentLink.update({EnrollmentLink.revoked_at: now}).where(
        (EnrollmentLink.officer == officer_id) & EnrollmentLink.used_at.is_null()
        & EnrollmentLink.revoked_at.is_null()
    ).returning(EnrollmentLink.id)
    if revoked:
        await audit.record("officer.revoke_link", actor_kind="officer" if by else "system",
                           actor_id=by,
                           detail={"officer": officer_id}, now=now)
    return len(revoked)


async def open_enrollment(officer_id: int, *, now: datetime | None = None) -> datetime | None:
    """When the officer's open enrollment link expires, if one is open."""
    row = await EnrollmentLink.select(EnrollmentLink.expires_at).where(
        (EnrollmentLink.officer == officer_id) & EnrollmentLink.used_at.is_null()
        & EnrollmentLink.revoked_at.is_null()
    ).order_by(EnrollmentLink.id, ascending=False).first()
    if row is None or aware(row["expires_at"]) <= _now(now):
        return None
    return aware(row["expires_at"])


async def open_enrollments(*, now: datetime | None = None) -> dict[int, datetime]:
    """Officer id → when their open enrollment link expires, for every officer with one."""
    now = _now(now)
    rows = await EnrollmentLink.select(EnrollmentLink.officer, EnrollmentLink.expires_at).where(
        EnrollmentLink.used_at.is_null() & EnrollmentLink.revoked_at.is_null()
        & (EnrollmentLink.expires_at > now))
    result: dict[int, datetime] = {}
    for row in rows:
        expires = aware(row["expires_at"])
        result[row["officer"]] = max(expires, result.get(row["officer"], expires))
    return result
