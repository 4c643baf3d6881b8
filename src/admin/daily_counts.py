"""Per-day counts kept in ``daily_count`` so the dashboard reads a few thousand rows instead of
grouping a million (:mod:`dashboards` reads them through :func:`counts`).

A *family* is one grouped count: declarations (key "", flagged = symptomatic), arrivals (key =
origin region id or ``foreign``, region = destination), checkpoint scans (key = local hour and
colour), check-ins (key = venue id) and OTP codes (key = state, no region). A row is ``kind =
"<family>:<key>"``, ``day`` (Vietnam), ``region_path``, ``flagged``, ``n``; a marker row
``kind = "filled"``, ``region_path = <family>`` says the family's day has been counted (also
when it counted nothing).

Rules:

* A day is *finished* for a family when no new row can land on it: before today for rows
  stamped with the time they were made (declarations, scans, check-ins, OTP), and more than
  ``ARRIVAL_MAX_PAST_DAYS`` + 1 days ago for arrivals (citizens may declare an arrival up to
  30 days after it). Finished days are read from the table; the rest is counted live.
* Missing finished days are counted once, by one ``INSERT … SELECT … GROUP BY`` per family over
  the missing range, inside a write transaction that holds :func:`lock` (SQLite: ``BEGIN
  IMMEDIATE``; PostgreSQL: an advisory transaction lock) and checks the markers again, so two
  processes filling the same days never count twice.
* Invalidation: the retention purge deletes the rows of every day up to its cutoff day
  (:func:`forget_until`); the import of old declarations deletes the days it touched
  (:func:`forget_days`), under the same lock, in its own transaction. Otherwise the counted
  rows are append-only (a declaration's region never changes). A venue moved to another region
  keeps its finished days' check-ins in the old region.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from khaibao.arrivals.trips import ARRIVAL_MAX_PAST_DAYS
from khaibao.core import db
from khaibao.core.clock import day_start
from khaibao.tables import DailyCount

FILLED = "filled"
_LOCK_KEY = 740_211_026  # pg_advisory_xact_lock key of the daily_count fill


@dataclass(frozen=True)
class Family:
    name: str
    source: str  # FROM … (with joins)
    time: str  # the row's moment
    path: str  # its region path ("" when none)
    key: str = "''"  # text splitting the family (hour and colour, venue id, …)
    flag: str = "0"  # 1 for a flagged row
    lag: int = 0  # days before today that rows can still land on

    def finished_last(self, today: date) -> date:
        return today - timedelta(days=1 + self.lag)


FAMILIES = {f.name: f for f in (
    Family("declarations",
           "health_declaration hd LEFT JOIN region r ON r.id = hd.region",
           "hd.submitted_at", "COALESCE(r.path, '')",
           flag="CASE WHEN hd.has_symptoms THEN 1 ELSE 0 END"),
    Family("arrivals", "arrival_declaration a", "a.arrival_at", "a.destination_path",
           key="COALESCE(CASE WHEN COALESCE(a.origin_country, 'VN') = 'VN' "
               "THEN CAST(a.origin_region AS TEXT) END, 'foreign')",
           lag=ARRIVAL_MAX_PAST_DAYS + 1),
    Family("scans", "check_pass cp JOIN checkpoint k ON k.id = cp.checkpoint "
           "JOIN region r ON r.id = k.region", "cp.at", "r.path",
           key="{hour} || ' ' || cp.colour"),
    Family("checkins", "check_in ci JOIN venue v ON v.id = ci.venue", "ci.checked_in_at",
           "v.region_path", key="CAST(v.id AS TEXT)"),
    Family("otp", "otp_code o", "o.created_at", "''", key="o.state"),
)}


def _local(column: str, unit: str) -> str:
    if db.is_sqlite():
        fmt = {"day": "%Y-%m-%d", "hour": "%H"}[unit]
        return f"strftime('{fmt}', {column}, '+7 hours')"
    fmt = {"day": "YYYY-MM-DD", "hour": "HH24"}[unit]
    return f"to_char({column} AT TIME ZONE 'Asia/Ho_Chi_Minh', '{fmt}')"


def _prefix(column: str, path: str) -> tuple[str, list]:
    """`` AND <column> is in the subtree of path`` (nothing for everything)."""
    if not path:
        return "", []
    return f" AND substr({column}, 1, {{}}) = {{}}", [len(path), path]


def _grouped(family: Family, *, by_path: bool, where: str = "") -> str:
    """``d, [p,] k, f, n`` of the family's rows between two moments, grouped."""
    day = _local(family.time, "day")
    key = family.key.replace("{hour}", _local(family.time, "hour"))
    path = f", {family.path} AS p" if by_path else ""
    group = "1, 2, 3" if by_path else "1, 2"  # positions: a constant key cannot be named
    return (f"SELECT {day} AS d{path}, {key} AS k, SUM({family.flag}) AS f, "  # noqa: S608
            f"COUNT(*) AS n FROM {family.source} "
            f"WHERE {family.time} >= {{}} AND {family.time} < {{}}{where} "
            f"GROUP BY {group}")


async def _raw(sql: str, *args) -> list[dict]:
    return await DailyCount.raw(sql, *args).run()


async def lock() -> None:
    """Inside a write transaction: serialise fills and invalidations (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` / first write already holds the database's write lock)."""
    if not db.is_sqlite():
        await _raw("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)


async def _filled(first: date, last: date) -> set[tuple[str, str]]:
    rows = await _raw("SELECT region_path AS f, day AS d FROM daily_count "
                      "WHERE kind = {} AND day >= {} AND day <= {}",
                      FILLED, first.isoformat(), last.isoformat())
    return {(r["f"], r["d"]) for r in rows}


def _missing(names: Iterable[str], first: date, today: date,
             done: set[tuple[str, str]]) -> dict[str, list[date]]:
    missing = {}
    for name in names:
        last = FAMILIES[name].finished_last(today)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if todo := [d for d in days if (name, d.isoformat()) not in done]:
            missing[name] = todo
    return missing


async def ensure(names: Iterable[str], first: date, today: date) -> int:
    """Count the families' finished days from ``first`` that are not counted yet; returns
    how many family-days were filled (0 when everything was there)."""
    names = list(names)
    if not _missing(names, first, today, await _filled(first, today)):
        return 0
    filled = 0
    async with db.write_transaction():
        await lock()
        missing = _missing(names, first, today, await _filled(first, today))
        for name, days in missing.items():
            filled += len(days)
            await _fill(FAMILIES[name], days)
    return filled


async def _fill(family: Family, days: list[date]) -> None:
    first, last = days[0], days[-1]
    wanted = {d.isoformat() for d in days}
    holes = sorted({(first + timedelta(days=i)).isoformat()
                    for i in range((last - first).days + 1)} - wanted)
    skip = ""
    if holes:  # days inside the range that are already counted
        skip = " WHERE d NOT IN (" + ", ".join("{}" for _ in holes) + ")"
    await _raw(
        "INSERT INTO daily_count (kind, day, region_path, flagged, n) "  # noqa: S608
        f"SELECT {{}} || k, d, p, f, n FROM ({_grouped(family, by_path=True)}) g{skip}",
        f"{family.name}:", day_start(first), day_start(last + timedelta(days=1)), *holes)
    await DailyCount.insert(*[DailyCount(kind=FILLED, day=d, region_path=family.name,
                                         flagged=0, n=0) for d in sorted(wanted)]).run()


async def counts(name: str, path: str, first: date, last: date, *, today: date,
                 now: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(day ISO, key): (flagged, n)}`` of the family in the region subtree ``path`` (""
    for everything) from ``first`` to ``last`` (inclusive): finished days from the table
    (filled first when missing), the others counted live up to ``now``."""
    family = FAMILIES[name]
    frozen = min(family.finished_last(today), last)
    found: dict[tuple[str, str], tuple[int, int]] = {}
    if frozen >= first:
        await ensure([name], first, today)
        where, args = _prefix("region_path", path)
        prefix = f"{name}:"
        rows = await _raw(
            "SELECT day AS d, kind AS k, SUM(flagged) AS f, SUM(n) AS n "  # noqa: S608
            "FROM daily_count WHERE day >= {} AND day <= {} AND substr(kind, 1, {}) = {}"
            f"{where} GROUP BY day, kind",
            first.isoformat(), frozen.isoformat(), len(prefix), prefix, *args)
        for r in rows:
            found[(r["d"], r["k"][len(prefix):])] = (int(r["f"] or 0), int(r["n"] or 0))
    live_first = max(first, frozen + timedelta(days=1))
    if live_first <= last:
        where, args = _prefix(family.path, path)
        end = min(now, day_start(last + timedelta(days=1)))
        for r in await _raw(_grouped(family, by_path=False, where=where),
                            day_start(live_first), end, *args):
            found[(r["d"], str(r["k"]))] = (int(r["f"] or 0), int(r["n"] or 0))
    return found


async def forget_days(days: Iterable[date]) -> None:
    """Drop the counts of these days (all families): the next dashboard counts them again.
    Best inside the transaction that changed their rows (it joins it)."""
    keys = sorted({d.isoformat() for d in days})
    if not keys:
        return
    async with db.transaction():
        await lock()
        for start in range(0, len(keys), 500):
            await DailyCount.delete().where(DailyCount.day.is_in(keys[start:start + 500])).run()


async def forget_until(day: date) -> int:
    """Drop the counts of ``day`` and every day before it (the retention purge)."""
    async with db.write_transaction():
        await lock()
        rows = await DailyCount.delete().where(DailyCount.day <= day.isoformat()).returning(
            DailyCount.id).run()
    return len(rows)
