"""Reading the audit log for the admins' viewer: filter by officer, action, person and day,
newest first, ``PAGE`` entries at a time (keyset on the id: ``before`` = the last id seen)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.tables import AuditEntry, Officer

PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    officer_id: int | None = None
    action: str = ""  # exact, or a prefix ending in "." ("officer." = every officer action)
    person_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    person_id: int | None
    place: str
    detail: dict[str, Any]


def _where(query: AuditFilter):
    condition = AuditEntry.id > 0
    if query.officer_id is not None:
        condition &= ((AuditEntry.actor_kind == "officer")
                      & (AuditEntry.actor_id == query.officer_id))
    if query.action:
        condition &= (AuditEntry.action.like(query.action.replace("%", "") + "%")
                      if query.action.endswith(".") else AuditEntry.action == query.action)
    if query.person_id is not None:
        condition &= AuditEntry.person == query.person_id
    if query.since is not None:
        condition &= AuditEntry.at >= query.since
    if query.until is not None:
        condition &= AuditEntry.at < query.until
    if query.before is not None:
        condition &= AuditEntry.id < query.before
    return condition


async def entries(query: AuditFilter, *, limit: int = PAGE) -> list[AuditRow]:
    rows = await AuditEntry.select(
        AuditEntry.id, AuditEntry.at, AuditEntry.actor_kind, AuditEntry.actor_id,
        AuditEntry.action, AuditEntry.person, AuditEntry.place, AuditEntry.detail,
    ).where(_where(query)).order_by(AuditEntry.id, ascending=False).limit(limit).run()
    officer_ids = {r["actor_id"] for r in rows if r["actor_kind"] == "officer" and r["actor_id"]}
    names = {o["id"]: o["name"] for o in await Officer.select(Officer.id, Officer.name).where(
        Officer.id.is_in(list(officer_ids))).run()} if officer_ids else {}
    result = []
    for r in rows:
        try:
            detail = json.loads(r["detail"] or "{}")
        except ValueError:
            detail = {}
        result.append(AuditRow(
            r["id"], r["at"], r["actor_kind"], r["actor_id"],
            names.get(r["actor_id"], "") if r["actor_kind"] == "officer" else "",
            r["action"], r["person"], r["place"], detail))
    return result


async def actions() -> list[str]:
    """The actions that occur in the log (for the filter's choices)."""
    rows = await AuditEntry.select(AuditEntry.action).distinct().order_by(AuditEntry.action).run()
    return [r["action"] for r in rows]
