"""Numbers for the venue dashboard: check-ins per hour today and per day, occupancy, and scan
compliance (check-ins per day against the venue's declared daily visitors).

Hours and days are Vietnam's (Asia/Ho_Chi_Minh, UTC+7 all year since 1975, no daylight
saving). The database counts (COUNT … GROUP BY on a bucket expression); only the bucket
expression differs between SQLite (``strftime`` with a ``+7 hours`` modifier on the stored
UTC text) and PostgreSQL (``AT TIME ZONE``), so both return the same local buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from piccolo.query.methods.select import Count

from khaibao.core import clock, db
from khaibao.core.clock import day_start, local_day
from khaibao.core.db import aware
from khaibao.tables import CheckIn, Venue
from khaibao.venues import checkins

COMPLIANCE_DAYS = 30
GOOD_COMPLIANCE = 0.8  # days below 80 % of the declared visitors are marked "low"


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _bucket_sql(unit: str) -> str:
    """SQL for the local hour (``'00'``…``'23'``) or day (``'YYYY-MM-DD'``) of a check-in."""
    if db.is_sqlite():
        fmt = {"hour": "%H", "day": "%Y-%m-%d"}[unit]
        return f"strftime('{fmt}', checked_in_at, '+7 hours')"
    fmt = {"hour": "HH24", "day": "YYYY-MM-DD"}[unit]
    return f"to_char(checked_in_at AT TIME ZONE 'Asia/Ho_Chi_Minh', '{fmt}')"


async def _counts(venue_id: int, unit: str, since: datetime, until: datetime) -> dict[str, int]:
    bucket = _bucket_sql(unit)
    rows = await CheckIn.raw(
        f"SELECT {bucket} AS bucket, COUNT(*) AS n FROM check_in "  # noqa: S608 (fixed text)
        "WHERE venue = {} AND checked_in_at >= {} AND checked_in_at < {} "
        f"GROUP BY {bucket}",
        venue_id, since, until,
    )
    return {str(row["bucket"]): int(row["n"]) for row in rows}


async def hourly_today(venue_id: int, *, now: datetime | None = None) -> list[int]:
    """Check-ins in each local hour (0–23) of today, Vietnam time."""
    now = _now(now)
    start = day_start(local_day(now))
    counts = await _counts(venue_id, "hour", start, start + timedelta(days=1))
    return [counts.get(f"{hour:02d}", 0) for hour in range(24)]


async def daily(venue_id: int, *, days: int = COMPLIANCE_DAYS, now: datetime | None = None
                ) -> list[tuple[date, int]]:
    """Check-ins per local day for the last ``days`` days, today last (zero days included)."""
    today = local_day(_now(now))
    first = today - timedelta(days=days - 1)
    counts = await _counts(venue_id, "day", day_start(first), day_start(today + timedelta(days=1)))
    return [(day, counts.get(day.isoformat(), 0))
            for day in (first + timedelta(days=i) for i in range(days))]


async def today_counts(venue_ids: Sequence[int], *, now: datetime | None = None
                       ) -> dict[int, int]:
    """Today's check-ins (Vietnam time) of each venue, for the venue list."""
    ids = list(venue_ids)
    if not ids:
        return {}
    start = day_start(local_day(_now(now)))
    rows = await CheckIn.select(CheckIn.venue, Count(CheckIn.id, alias="n")).where(
        CheckIn.venue.is_in(ids) & (CheckIn.checked_in_at >= start)
    ).group_by(CheckIn.venue)
    return {row["venue"]: int(row["n"]) for row in rows}


@dataclass(frozen=True)
class ComplianceDay:
    day: date
    checkins: int
    ratio: float | None  # check-ins / declared daily visitors; None: none declared, or the
    # venue did not exist yet that day

    @property
    def percent(self) -> int | None:
        return None if self.ratio is None else round(self.ratio * 100)

    @property
    def low(self) -> bool:
        return self.ratio is not None and self.ratio < GOOD_COMPLIANCE


@dataclass(frozen=True)
class Compliance:
    days: list[ComplianceDay]
    daily_visitors: int | None

    @property
    def total(self) -> int:
        return sum(d.checkins for d in self.days)

    @property
    def full_days(self) -> int:
        """Days that count for the average: complete (not today) and with the venue open."""
        return sum(1 for d in self.days[:-1] if d.ratio is not None)

    @property
    def average_percent(self) -> int | None:
        """Mean compliance over the full days (today is still running, so it is left out)."""
        full = [d.ratio for d in self.days[:-1] if d.ratio is not None]
        return round(100 * sum(full) / len(full)) if full else None

    @property
    def low_days(self) -> int:
        return sum(1 for d in self.days[:-1] if d.low)

    @property
    def days_with_checkins(self) -> int:
        return sum(1 for d in self.days if d.checkins)


async def compliance(venue_id: int, daily_visitors: int | None, *,
                     days: int = COMPLIANCE_DAYS, now: datetime | None = None) -> Compliance:
    """Scan compliance per day: how many of the visitors the venue says it receives a day were
    actually checked in (by staff scanning or by people scanning the poster)."""
    counts = await daily(venue_id, days=days, now=now)
    row = await Venue.select(Venue.created_at).where(Venue.id == venue_id).first()
    opened = local_day(aware(row["created_at"])) if row and row["created_at"] else None

    def ratio(day: date, n: int) -> float | None:
        if not daily_visitors or (opened is not None and day < opened and not n):
            return None  # nothing expected before the venue was registered
        return n / daily_visitors

    return Compliance(days=[ComplianceDay(day, n, ratio(day, n)) for day, n in counts],
                      daily_visitors=daily_visitors)


@dataclass(frozen=True)
class Dashboard:
    hourly: list[int]
    occupancy: int
    today: list[checkins.CheckInView]
    compliance: Compliance

    @property
    def today_total(self) -> int:
        return sum(self.hourly)


async def dashboard(venue_id: int, daily_visitors: int | None, *,
                    now: datetime | None = None) -> Dashboard:
    now = _now(now)
    return Dashboard(
        hourly=await hourly_today(venue_id, now=now),
        occupancy=await checkins.occupancy(venue_id, now=now),
        today=await checkins.venue_today(venue_id, day_start(local_day(now)), limit=200),
        compliance=await compliance(venue_id, daily_visitors, now=now),
    )
