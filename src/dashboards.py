"""Numbers for the administration dashboard (/quan-tri/tong-quan), counted by the database.

Every function takes a :class:`Scope` (a region subtree; ``path=""`` is the whole deployment)
and a period, and runs one ``COUNT … GROUP BY`` query: rows are never loaded into Python to
be counted, only the grouped results (at most one per day, hour, venue or origin region).

Region scoping, per table:

* health declarations: the declaring person's region (``health_declaration.region``), joined
  to ``region.path``;
* arrivals: ``arrival_declaration.destination_path`` (where they go);
* checkpoint scans: the checkpoint's region;
* check-ins: ``venue.region_path``;
* OTP codes have no region: only the whole-deployment scope shows them.

The path filter is ``substr(path, 1, n) = prefix`` (same text on SQLite and PostgreSQL, no
LIKE wildcards to escape). Days and hours are Vietnam's (UTC+7, see :mod:`venue_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from khaibao import db
from khaibao.tables import HealthDeclaration, Region
from khaibao.venue_stats import LOCAL_TIMEZONE, day_start, local_day

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_ORIGINS = 10
TOP_VENUES = 15
FOREIGN = "foreign"  # origin key of arrivals from abroad
COLOURS = ("green", "yellow", "red")
OTP_ABUSE_THRESHOLD = 5  # codes to one phone in the period that make it suspicious


@dataclass(frozen=True)
class Scope:
    """A region subtree (``path`` like ``/VN/VN-46/``) or everything (``path == ""``)."""

    path: str = ""
    code: str = ""
    label: str = ""

    @property
    def everything(self) -> bool:
        return not self.path


@dataclass(frozen=True)
class Period:
    days: int
    first: date
    last: date  # today, Vietnam time

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


def period(days: int = DEFAULT_PERIOD, *, now: datetime | None = None) -> Period:
    days = days if days in PERIODS else DEFAULT_PERIOD
    today = local_day(now or datetime.now(UTC))
    return Period(days, today - timedelta(days=days - 1), today)


def _hour_sql(column: str) -> str:
    """SQL for the UTC hour of ``column``, a text key like ``2026-11-25 17``.

    Vietnam is UTC+7 all year, so each UTC hour is exactly one local hour: the database groups
    by UTC hour (cheap: on SQLite a prefix of the stored text, no date parsing per row) and
    :func:`_fold` moves the few hundred groups into local days or hours of the day.
    """
    if db.is_sqlite():
        return f"substr({column}, 1, 13)"
    return f"to_char(date_trunc('hour', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24')"


def _local(key: str) -> datetime:
    return datetime.strptime(str(key)[:13], "%Y-%m-%d %H").replace(
        tzinfo=UTC).astimezone(LOCAL_TIMEZONE)


def _fold_days(rows: list[dict], *columns: str) -> dict[str, tuple[int, ...]]:
    """``{local day ISO: (sum of each column)}`` from rows grouped by UTC hour (``h``)."""
    days: dict[str, list[int]] = {}
    for row in rows:
        day = _local(row["h"]).date().isoformat()
        sums = days.setdefault(day, [0] * len(columns))
        for i, column in enumerate(columns):
            sums[i] += int(row[column] or 0)
    return {day: tuple(values) for day, values in days.items()}


def _in_scope(column: str, scope: Scope) -> tuple[str, list]:
    """`` AND <column> is in the subtree`` and its arguments (nothing for everything)."""
    if scope.everything:
        return "", []
    return f" AND substr({column}, 1, {{}}) = {{}}", [len(scope.path), scope.path]


def _narrow(scope: Scope) -> bool:
    """A ward or smaller: few rows, best found through the region index."""
    return scope.path.count("/") >= 4


def _index(name: str) -> str:
    """Tell SQLite which index to use (its planner has no statistics for skewed columns
    until ANALYZE has run); PostgreSQL's planner is left to choose."""
    return f" INDEXED BY {name}" if db.is_sqlite() else ""


async def _raw(sql: str, *args) -> list[dict]:
    return await HealthDeclaration.raw(sql, *args).run()


# --- declarations --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DayCount:
    day: date
    total: int
    flagged: int = 0  # symptomatic declarations; burned OTP codes

    @property
    def plain(self) -> int:
        return self.total - self.flagged


async def declarations_per_day(scope: Scope, span: Period) -> list[DayCount]:
    """Health declarations per local day, with how many reported symptoms.

    Two grouped counts, each using the index that makes it cheap on 1 M rows: all
    declarations (the submitted_at index alone answers it for the whole deployment; the
    region index for a ward) and the symptomatic few (the has_symptoms index).
    """
    hour = _hour_sql("hd.submitted_at")
    region, args = "", []
    if not scope.everything:
        region = " AND hd.region IN (SELECT id FROM region WHERE substr(path, 1, {}) = {})"
        args = [len(scope.path), scope.path]

    def query(index: str, extra: str = "") -> str:
        return (f"SELECT {hour} AS h, COUNT(*) AS n FROM health_declaration hd{index} "  # noqa: S608
                "WHERE hd.submitted_at >= {} AND hd.submitted_at < {}"
                f"{region}{extra} GROUP BY {hour}")

    totals = await _raw(query(_index("health_declaration_region") if _narrow(scope) else ""),
                        span.start, span.end, *args)
    flagged = await _raw(query(_index("health_declaration_has_symptoms"),
                               " AND hd.has_symptoms = {}"),
                         span.start, span.end, *args, True)
    all_days = _fold_days(totals, "n")
    sick_days = _fold_days(flagged, "n")
    return [DayCount(d, all_days.get(d.isoformat(), (0,))[0],
                     sick_days.get(d.isoformat(), (0,))[0]) for d in span.dates]


def _days(span: Period, found: dict[str, tuple[int, ...]]) -> list[DayCount]:
    return [DayCount(day, *found.get(day.isoformat(), (0, 0))[:2]) for day in span.dates]


# --- arrivals ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Origin:
    key: str  # province code, or FOREIGN
    name: str
    count: int


async def arrivals_per_day(scope: Scope, span: Period) -> list[DayCount]:
    hour = _hour_sql("arrival_at")
    where, args = _in_scope("destination_path", scope)
    rows = await _raw(
        f"SELECT {hour} AS h, COUNT(*) AS n FROM arrival_declaration "  # noqa: S608
        f"WHERE arrival_at >= {{}} AND arrival_at < {{}}{where} GROUP BY {hour}",
        span.start, span.end, *args)
    return _days(span, _fold_days(rows, "n"))


def _province_path(path: str) -> str:
    """``/VN/VN-46/VN-46-19753/`` → ``/VN/VN-46/``."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else path


async def top_origins(scope: Scope, span: Period, *, limit: int = TOP_ORIGINS) -> list[Origin]:
    """The provinces most arrivals came from (abroad counts as one origin).

    The database groups by origin region (a few hundred groups at most); those groups are
    summed into their provinces here, since the province is a prefix of the region's path.
    """
    where, args = _in_scope("a.destination_path", scope)
    rows = await _raw(
        "SELECT o.path AS p, a.origin_country AS c, COUNT(*) AS n "  # noqa: S608
        "FROM arrival_declaration a LEFT JOIN region o ON o.id = a.origin_region "
        f"WHERE a.arrival_at >= {{}} AND a.arrival_at < {{}}{where} "
        "GROUP BY o.path, a.origin_country",
        span.start, span.end, *args)
    totals: dict[str, int] = {}
    for row in rows:
        key = (_province_path(row["p"]) if row["p"] and (row["c"] or "VN") == "VN"
               else FOREIGN)
        totals[key] = totals.get(key, 0) + int(row["n"])
    top = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    paths = [key for key, _n in top if key != FOREIGN]
    names = {r["path"]: r["name"] for r in await Region.select(Region.path, Region.name).where(
        Region.path.is_in(paths))} if paths else {}
    return [Origin(key, names.get(key, key) if key != FOREIGN else "", n) for key, n in top]


# --- checkpoint scans ----------------------------------------------------------------------------

@dataclass(frozen=True)
class HourColours:
    hour: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def scans_per_hour(scope: Scope, span: Period) -> list[HourColours]:
    """Checkpoint scans (recorded passes) per local hour of day over the period, by colour."""
    hour = _hour_sql("cp.at")
    join = ("" if scope.everything else
            " JOIN checkpoint k ON k.id = cp.checkpoint JOIN region r ON r.id = k.region")
    where, args = _in_scope("r.path", scope)
    rows = await _raw(
        f"SELECT {hour} AS h, cp.colour AS c, COUNT(*) AS n "  # noqa: S608
        f"FROM check_pass cp{join} WHERE cp.at >= {{}} AND cp.at < {{}}{where} "
        f"GROUP BY {hour}, cp.colour",
        span.start, span.end, *args)
    hours = [HourColours(h, dict.fromkeys(COLOURS, 0)) for h in range(24)]
    for row in rows:
        counts = hours[_local(row["h"]).hour].counts
        counts[row["c"]] = counts.get(row["c"], 0) + int(row["n"])
    return hours


# --- check-ins -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VenueCount:
    venue_id: int
    name: str
    count: int


async def checkins_per_venue(scope: Scope, span: Period, *, limit: int = TOP_VENUES
                             ) -> list[VenueCount]:
    where, args = _in_scope("v.region_path", scope)
    rows = await _raw(
        "SELECT v.id AS id, v.name AS name, COUNT(*) AS n "  # noqa: S608
        "FROM check_in ci JOIN venue v ON v.id = ci.venue "
        f"WHERE ci.checked_in_at >= {{}} AND ci.checked_in_at < {{}}{where} "
        "GROUP BY v.id, v.name ORDER BY COUNT(*) DESC, v.id LIMIT {}",
        span.start, span.end, *args, limit)
    return [VenueCount(int(r["id"]), r["name"], int(r["n"])) for r in rows]


# --- OTP -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OtpStats:
    days: list[DayCount]  # total = codes sent, flagged = burned (too many wrong tries)
    used: int
    busy_phones: int  # phones sent OTP_ABUSE_THRESHOLD codes or more in the period

    @property
    def sent(self) -> int:
        return sum(d.total for d in self.days)

    @property
    def burned(self) -> int:
        return sum(d.flagged for d in self.days)


async def otp_stats(span: Period) -> OtpStats:
    hour = _hour_sql("created_at")
    rows = await _raw(
        f"SELECT {hour} AS h, COUNT(*) AS n, "  # noqa: S608
        "SUM(CASE WHEN state = 'burned' THEN 1 ELSE 0 END) AS s, "
        "SUM(CASE WHEN state = 'used' THEN 1 ELSE 0 END) AS u "
        f"FROM otp_code WHERE created_at >= {{}} AND created_at < {{}} GROUP BY {hour}",
        span.start, span.end)
    busy = await _raw(
        "SELECT COUNT(*) AS n FROM (SELECT phone FROM otp_code "
        "WHERE created_at >= {} AND created_at < {} GROUP BY phone "
        "HAVING COUNT(*) >= {}) busy",
        span.start, span.end, OTP_ABUSE_THRESHOLD)
    return OtpStats(
        days=_days(span, _fold_days(rows, "n", "s")),
        used=sum(int(r["u"] or 0) for r in rows), busy_phones=int(busy[0]["n"]))


# --- the whole board -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Board:
    scope: Scope
    span: Period
    declarations: list[DayCount]
    arrivals: list[DayCount]
    origins: list[Origin]
    scans: list[HourColours]
    venues: list[VenueCount]
    otp: OtpStats | None  # None for a scoped board

    @property
    def declaration_total(self) -> int:
        return sum(d.total for d in self.declarations)

    @property
    def symptomatic_total(self) -> int:
        return sum(d.flagged for d in self.declarations)

    @property
    def arrival_total(self) -> int:
        return sum(d.total for d in self.arrivals)

    @property
    def scan_totals(self) -> dict[str, int]:
        return {c: sum(h.counts.get(c, 0) for h in self.scans) for c in COLOURS}


async def board(scope: Scope, span: Period) -> Board:
    return Board(
        scope=scope, span=span,
        declarations=await declarations_per_day(scope, span),
        arrivals=await arrivals_per_day(scope, span),
        origins=await top_origins(scope, span),
        scans=await scans_per_hour(scope, span),
        venues=await checkins_per_venue(scope, span),
        otp=await otp_stats(span) if scope.everything else None,
    )


def local_hour(moment: datetime) -> int:
    return moment.astimezone(LOCAL_TIMEZONE).hour
