"""Venue "point" policies (chính sách điểm): "everyone who was at venue V between A and B must
do M", built on the ordinary policy engine.

The engine (decisions.py) knows regions and places, not check-ins, and decides at the moment
of the scan (a policy must be in force *then*). The exposure window (when people were at the
venue) is therefore a region of its own:

* the venue's point: a Region of kind ``point`` under the venue's region, code
  ``{region code}-V{venue id}``, named like the venue (made once, then reused);
* the exposure window: a ``point`` under it, code ``{venue point code}-{start}{minutes}``
  (start = minutes since 1970 in base 36, 6 characters; length in minutes, 4 characters),
  named "Khung giờ 08:00 24/11/2026 – 12:00 24/11/2026". Its code *is* the window, so
  nothing needs a new column and the same window is found again.

The policy targets the window's region; its own effective window says from when until when
the measure is applied at scans. :func:`places_from_checkins` turns a person's check-ins
that overlap an exposure window into ``decisions.Place`` objects at that region, so adding
them to the person's other places makes ``decisions.decide`` apply the policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from khaibao.core import clock, db
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.db import aware
from khaibao.core.errors import FormErrors, error_maker
from khaibao.core.i18n import N_
from khaibao.core.text import fold_diacritics
from khaibao.policies import policies
from khaibao.policies.decisions import Place
from khaibao.policies.policy_input import parse_policy
from khaibao.tables import Region, Venue
from khaibao.tables.venues import BY_TYPED

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
START_WIDTH, LENGTH_WIDTH = 6, 4
MAX_CODE = 40  # Region.code's length
POLICY_FIELDS = ("measure", "days", "custom_text", "effective_from", "effective_to",
                 "legal_reference")

_ERRORS = {
    "point.no_region": N_("Điểm đến này chưa có địa bàn. Hãy cập nhật địa bàn của điểm đến trước "
                          "khi tạo chính sách điểm."),
    "point.code_too_long": N_("Địa bàn của điểm đến quá sâu để tạo chính sách điểm."),
}


error = error_maker(_ERRORS)


def _base36(value: int, width: int) -> str:
    digits = ""
    while value:
        value, rest = divmod(value, 36)
        digits = _DIGITS[rest] + digits
    return digits.rjust(width, "0")


def point_code(region_code: str, venue_id: int) -> str:
    return f"{region_code}-V{venue_id}"


def window_code(venue_point_code: str, start: datetime, end: datetime) -> str:
    minutes = int(start.timestamp() // 60)
    length = max(1, int((end - start).total_seconds() // 60))
    return f"{venue_point_code}-{_base36(minutes, START_WIDTH)}{_base36(length, LENGTH_WIDTH)}"


def window_of(code: str) -> tuple[datetime, datetime] | None:
    """The exposure window a window region's code stands for; None for any other code."""
    suffix = code.rsplit("-", 1)[-1]
    if len(suffix) != START_WIDTH + LENGTH_WIDTH or "-V" not in code:
        return None
    try:
        minutes, length = int(suffix[:START_WIDTH], 36), int(suffix[START_WIDTH:], 36)
    except ValueError:
        return None
    start = datetime.fromtimestamp(minutes * 60, UTC)
    return start, start + timedelta(minutes=length)


def window_name(start: datetime, end: datetime) -> str:
    fmt = "%H:%M %d/%m/%Y"
    return (f"Khung giờ {start.astimezone(LOCAL_TIMEZONE).strftime(fmt)} – "
            f"{end.astimezone(LOCAL_TIMEZONE).strftime(fmt)}")


async def _ensure_region(code: str, name: str, parent: Mapping[str, Any]) -> dict[str, Any]:
    """The ``point`` region with this code under ``parent`` (made when missing)."""
    async def attempt() -> dict[str, Any]:
        async with db.write_transaction():
            row = await Region.select(Region.id, Region.code, Region.path, Region.depth).where(
                Region.code == code).first()
            if row is not None:
                return row
            await Region.insert(Region(
                code=code, name=name[:200], name_folded=fold_diacritics(name[:200]),
                kind="point", parent=parent["id"], path=f"{parent['path']}{code}/",
                depth=parent["depth"] + 1)).run()
        made = await Region.select(Region.id, Region.code, Region.path, Region.depth).where(
            Region.code == code).first()
        assert made is not None  # inserted just above
        return made

    return await db.retry_on_unique(attempt)


@dataclass(frozen=True)
class PointPolicy:
    policy: policies.PolicyView
    region_code: str
    venue_id: int
    start: datetime
    end: datetime


async def _venue_region(venue_id: int) -> tuple[dict[str, Any], str]:
    row = await Venue.select(
        Venue.name, Venue.region.id.as_alias("region_id"),
        Venue.region.code.as_alias("region_code"), Venue.region.path.as_alias("region_path"),
        Venue.region.depth.as_alias("region_depth"),
    ).where(Venue.id == venue_id).first()
    if row is None or row["region_id"] is None:
        raise FormErrors({"measure": error("point.no_region")})
    parent = {"id": row["region_id"], "code": row["region_code"], "path": row["region_path"],
              "depth": row["region_depth"]}
    return parent, row["name"]


async def create_point_policy(venue_id: int, start: datetime, end: datetime,
                              fields: Mapping[str, Any], *, created_by: int | None,
                              now: datetime | None = None) -> PointPolicy:
    """Validate the policy part of the form (``POLICY_FIELDS``, as in the policy admin
    form), make (or reuse) the venue's point and the exposure window's point, and create
    the policy targeting the window. Raises :class:`FormErrors`."""
    now = now or clock.now()
    parent, venue_name = await _venue_region(venue_id)
    venue_point = point_code(parent["code"], venue_id)
    code = window_code(venue_point, start, end)
    if len(code) > MAX_CODE:
        raise FormErrors({"measure": error("point.code_too_long")})
    values = {name: str(fields.get(name) or "") for name in POLICY_FIELDS}
    data = parse_policy({**values, "target_region": code}, now=now)
    point = await _ensure_region(venue_point, venue_name, parent)
    await _ensure_region(code, window_name(start, end), point)
    view = await policies.create(data, created_by=created_by, now=now)
    return PointPolicy(view, code, venue_id, start, end)


# The persons' stays joined to the exposure windows of their venues' points, in one read:
# venue → its region → the venue's point (code "{region code}-V{venue id}") → its windows.
_STAYS_IN_WINDOWS = """
SELECT c.person, c.checked_in_at, c.ends_at, v.name AS venue_name, w.code, w.path, w.name
FROM check_in c
JOIN venue v ON v.id = c.venue
JOIN region r ON r.id = v.region
JOIN region p ON p.code = r.code || '-V' || CAST(c.venue AS TEXT)
JOIN region w ON w.parent = p.id AND w.kind = 'point'
WHERE c.person IN ({persons}) AND c.ends_at > {{}} AND c.by_kind <> {{}}
ORDER BY c.checked_in_at, c.id, w.id
"""


async def places_from_checkins(person_id: int, since: datetime) -> list[Place]:
    """The person's stays (ending after ``since``) that overlap the exposure window of a
    venue point, as places for ``decisions.decide``: the window's region path, ``at`` = the
    stay's check-in. Stays at venues without point windows give nothing, nor do stays venue
    staff made from a typed ID number (``typed``: nobody showed a QR or a card, so such a
    stay must not put a measure on a person). One indexed read
    (check_in by person, region by code and by parent)."""
    return (await places_from_checkins_of([person_id], since)).get(person_id, [])


async def places_from_checkins_of(person_ids: Sequence[int], since: datetime
                                  ) -> dict[int, list[Place]]:
    """:func:`places_from_checkins` for many persons in one read (a list of arrivals)."""
    if not person_ids:
        return {}
    ids = list(dict.fromkeys(person_ids))
    sql = _STAYS_IN_WINDOWS.format(persons=", ".join("{}" for _id in ids))
    places: dict[int, list[Place]] = {}
    for row in await db.fetch(sql, *ids, since, BY_TYPED):
        window = window_of(row["code"])
        if window is None:
            continue
        start, end = window
        checked_in, ends = aware(row["checked_in_at"]), aware(row["ends_at"])
        if checked_in < end and start < ends:
            places.setdefault(row["person"], []).append(Place(
                row["path"], row["code"], f"{row['venue_name']} ({row['name']})", checked_in))
    return places
