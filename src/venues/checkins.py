"""Check-ins at venues (quét QR điểm đến), both ways: a citizen scanning a poster, or venue
staff scanning the citizen's QR. Each stay has an end (``ends_at``): the check-out, or the
check-in plus the default stay, so tracing never deals with open intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from khaibao.core import clock, db
from khaibao.core.db import aware
from khaibao.core.i18n import N_
from khaibao.tables import CheckIn
from khaibao.tables.venues import BY_SELF, BY_STAFF, BY_TYPED

REPEAT_WINDOW = timedelta(minutes=30)


# How a stay was made (check_in.by_kind), in the words the dashboard and the exports show.
BY_KIND_LABELS = {
    BY_SELF: N_("Tự quét áp phích"),
    BY_STAFF: N_("Nhân viên quét"),
    BY_TYPED: N_("Nhân viên nhập số giấy tờ"),
}


@dataclass(frozen=True)
class CheckInView:
    id: int
    person_id: int
    person_name: str
    venue_id: int
    venue_name: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    ends_at: datetime
    by_kind: str
    repeated: bool = False  # an earlier check-in within the repeat window, returned again

    @property
    def by_kind_label(self) -> str:
        """How the stay was made, in words (a catalog msgid)."""
        return BY_KIND_LABELS.get(self.by_kind, self.by_kind)

    def is_open(self, now: datetime) -> bool:
        return self.checked_out_at is None and self.ends_at > now


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


_COLUMNS = (CheckIn.id, CheckIn.person, CheckIn.venue, CheckIn.checked_in_at,
            CheckIn.checked_out_at, CheckIn.ends_at, CheckIn.by_kind,
            CheckIn.person.full_name.as_alias("person_name"),
            CheckIn.venue.name.as_alias("venue_name"))


def checkin_view(row: Mapping[str, Any], repeated: bool = False) -> CheckInView:
    """The view of a check_in row (with ``person_name`` and ``venue_name``): the one
    constructor every reader uses."""
    return CheckInView(
        id=row["id"], person_id=row["person"], person_name=row["person_name"],
        venue_id=row["venue"], venue_name=row["venue_name"],
        checked_in_at=aware(row["checked_in_at"]), checked_out_at=aware(row["checked_out_at"]),
        ends_at=aware(row["ends_at"]), by_kind=row["by_kind"], repeated=repeated,
    )


# Hand-written (db.fetch/execute): a check-in is the busiest write of a province.
_INSERT_UNLESS_RECENT = """
INSERT INTO check_in (person, venue, account, checked_in_at, checked_out_at, ends_at, by_kind,
                      officer_id)
SELECT p.id, {}, {}, {}, NULL, {}, {}, {} FROM person p
WHERE p.id IN ({marks}) AND NOT EXISTS (
    SELECT 1 FROM check_in r WHERE r.venue = {} AND r.person = p.id
    AND r.checked_in_at >= {} AND r.checked_out_at IS NULL)
RETURNING id"""
# PostgreSQL: one check-in of a person at a time (in id order, so two never deadlock).
_LOCK_PERSONS = """
SELECT pg_advisory_xact_lock(740211027, (id % 2147483647)::int4) FROM person
WHERE id IN ({marks}) ORDER BY id"""
_VIEW_SQL = """
SELECT c.id, c.person, c.venue, c.checked_in_at, c.checked_out_at, c.ends_at, c.by_kind,
       p.full_name AS person_name, v.name AS venue_name
FROM check_in c JOIN person p ON p.id = c.person JOIN venue v ON v.id = c.venue
WHERE """


async def person_ids_of(account_id: int) -> set[int]:
    """The ids of the account's persons (what a citizen may check in), in one read."""
    return {row["id"] for row in await db.fetch(
        "SELECT id FROM person WHERE account = {}", account_id)}


async def check_in(venue_id: int, person_ids: Sequence[int], settings, *,
                   account_id: int | None = None, by_kind: str = BY_SELF,
                   officer_id: int | None = None, now: datetime | None = None
                   ) -> list[CheckInView]:
    """Check the persons in. A person still checked in here since less than 30 minutes is not
    checked in again: their existing check-in comes back with ``repeated=True``.

    Callers make sure the persons are the account's (citizen) or were scanned (staff)."""
    now = _now(now)
    ids = list(dict.fromkeys(person_ids)) or [0]
    inserted = await add_stays(venue_id, ids, settings, account_id=account_id,
                               by_kind=by_kind, officer_id=officer_id, now=now)
    latest: dict[int, dict] = {}
    for row in await db.fetch(
            _VIEW_SQL + f"c.venue = {{}} AND c.person IN ({db.marks(len(ids))})"
            " AND c.checked_in_at >= {} AND c.checked_out_at IS NULL"
            " ORDER BY c.checked_in_at, c.id", venue_id, *ids, now - REPEAT_WINDOW):
        latest[row["person"]] = row  # each person's newest stay here
    return [checkin_view(latest[pid], repeated=latest[pid]["id"] not in inserted)
            for pid in ids if pid in latest]


async def add_stays(venue_id: int, person_ids: Sequence[int], settings, *,
                    account_id: int | None = None, by_kind: str = BY_SELF,
                    officer_id: int | None = None, now: datetime | None = None) -> set[int]:
    """The check-in itself, without reading the stays back (:func:`check_in` does): a stay
    for each person not checked in here within the repeat window; the new stays' ids.

    One statement: the repeat check and the insert are atomic on SQLite, and outside a
    transaction it commits together with other requests' writes (db.execute). PostgreSQL
    evaluates the statement's NOT EXISTS on a snapshot taken when it starts, so two at once
    would both insert: there the persons are locked first (an advisory transaction lock
    each), and the statement that waited sees the stay the other committed."""
    now = _now(now)
    stay = timedelta(minutes=settings.checkin_stay_minutes)
    ids = list(dict.fromkeys(person_ids)) or [0]
    insert = _INSERT_UNLESS_RECENT.replace("{marks}", db.marks(len(ids)))
    values = (venue_id, account_id, now, now + stay, by_kind, officer_id,
              *ids, venue_id, now - REPEAT_WINDOW)
    if db.is_sqlite():
        return {row["id"] for row in await db.execute(insert, *values)}
    async with db.write_transaction():
        await db.execute(_LOCK_PERSONS.replace("{marks}", db.marks(len(ids))), *ids)
        return {row["id"] for row in await db.execute(insert, *values)}


async def check_out(venue_id: int, person_ids: Sequence[int], *,
                    now: datetime | None = None) -> int:
    """End the persons' open stays at this venue now; how many were ended."""
    now = _now(now)
    ids = list(dict.fromkeys(person_ids)) or [0]
    ended = await db.execute(
        "UPDATE check_in SET checked_out_at = {}, ends_at = {} "  # noqa: S608
        f"WHERE venue = {{}} AND person IN ({db.marks(len(ids))}) "
        "AND checked_out_at IS NULL AND ends_at > {} RETURNING id",
        now, now, venue_id, *ids, now)
    return len(ended)


async def open_stays(venue_id: int, person_ids: Sequence[int], *,
                     now: datetime | None = None) -> list[CheckInView]:
    """The persons' stays at this venue that have not ended."""
    rows = await CheckIn.select(*_COLUMNS).where(
        (CheckIn.venue == venue_id) & CheckIn.person.is_in(list(person_ids) or [0])
        & CheckIn.checked_out_at.is_null() & (CheckIn.ends_at > _now(now))
    ).order_by(CheckIn.checked_in_at)
    return [checkin_view(row) for row in rows]


async def last_checkin(person_id: int) -> CheckInView | None:
    """The person's latest check-in anywhere (for the officer's result)."""
    row = await CheckIn.select(*_COLUMNS).where(CheckIn.person == person_id).order_by(
        CheckIn.checked_in_at, ascending=False).first()
    return checkin_view(row) if row else None


async def venue_today(venue_id: int, since: datetime, *, limit: int = 500) -> list[CheckInView]:
    """The venue's check-ins since ``since``, newest first."""
    rows = await CheckIn.select(*_COLUMNS).where(
        (CheckIn.venue == venue_id) & (CheckIn.checked_in_at >= since)
    ).order_by(CheckIn.checked_in_at, ascending=False).limit(limit)
    return [checkin_view(row) for row in rows]


async def occupancy(venue_id: int, *, now: datetime | None = None) -> int:
    """How many people are at the venue now (stays not ended)."""
    now = _now(now)
    return await CheckIn.count().where(
        (CheckIn.venue == venue_id) & (CheckIn.checked_in_at <= now) & (CheckIn.ends_at > now))
