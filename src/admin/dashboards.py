"""Numbers for the administration dashboard (/quan-tri/tong-quan).

Every function takes a :class:`Scope` (a region subtree; ``path=""`` is the whole deployment)
and a period. The per-day counts come from :mod:`daily_counts`: finished days are read from
the ``daily_count`` table (counted once, by the database, the first time a dashboard needs
them), today (and, for arrivals, the last month, which late declarations can still change)
is counted live. Rows are never loaded into Python to be counted.

Region scoping, per table:

* health declarations: the declaring person's region (``health_declaration.region``);
* arrivals: ``arrival_declaration.destination_path`` (where they go);
* checkpoint scans: the checkpoint's region;
* check-ins: ``venue.region_path``;
* OTP codes have no region: only the whole-deployment scope shows them.

The path filter is ``substr(path, 1, n) = prefix`` (same text on SQLite and PostgreSQL, no
LIKE wildcards to escape). Days and hours are Vietnam's (UTC+7, see :mod:`venue_stats`).
Invalidation rules (purge, import) are in :mod:`daily_counts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from khaibao.admin import daily_counts
from khaibao.core import clock
from khaibao.core.clock import LOCAL_TIMEZONE, day_start, local_day
from khaibao.tables import HealthDeclaration, Region, Venue
from khaibao.verdicts.verdicts import COLOURS

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP_ORIGINS = 10
TOP_VENUES = 15
FOREIGN = "foreign"  # origin key of arrivals from abroad
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
    """The last ``days`` local days up to ``now``: every count of the period is as of ``now``
    (which days are finished, where the live count stops)."""

    days: int
    first: date
    last: date  # the local day of ``now``
    now: datetime

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
    now = now or clock.now()
    today = local_day(now)
    return Period(days, today - timedelta(days=days - 1), today, now)


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


async def _counts(name: str, scope: Scope, span: Period
                  ) -> dict[tuple[str, str], tuple[int, int]]:
    return await daily_counts.counts(name, scope.path, span.first, span.last,
                                     today=span.last, now=span.now)


def _by_key(found: dict[tuple[str, str], tuple[int, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_day, key), (_f, n) in found.items():
        totals[key] = totals.get(key, 0) + n
    return totals


def _per_day(span: Period, found: dict[tuple[str, str], tuple[int, int]]) -> list[DayCount]:
    days: dict[str, list[int]] = {}
    for (day, _key), (f, n) in found.items():
        sums = days.setdefault(day, [0, 0])
        sums[0] += n
        sums[1] += f
    return _days(span, {day: tuple(v) for day, v in days.items()})


async def declarations_per_day(scope: Scope, span: Period) -> list[DayCount]:
    """Health declarations per local day, with how many reported symptoms."""
    return _per_day(span, await _counts("declarations", scope, span))


def _days(span: Period, found: dict[str, tuple[int, ...]]) -> list[DayCount]:
    return [DayCount(day, *found.get(day.isoformat(), (0, 0))[:2]) for day in span.dates]


# --- arrivals ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Origin:
    key: str  # province code, or FOREIGN
    name: str
    count: int


async def arrivals_per_day(scope: Scope, span: Period) -> list[DayCount]:
    return _per_day(span, await _counts("arrivals", scope, span))


def _province_path(path: str) -> str:
    """``/VN/VN-46/VN-46-19753/`` → ``/VN/VN-46/``."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else path


async def top_origins(scope: Scope, span: Period, *, limit: int = TOP_ORIGINS,
                      found: dict | None = None) -> list[Origin]:
    """The provinces most arrivals came from (abroad counts as one origin).

    Arrivals are counted per origin region (a few hundred at most); those are summed into
    their provinces here, since the province is a prefix of the region's path. ``found``:
    the arrival counts already read for the per-day chart.
    """
    if found is None:
        found = await _counts("arrivals", scope, span)
    by_origin = _by_key(found)
    ids = [int(k) for k in by_origin if k.isdigit()]
    paths = {r["id"]: r["path"] for r in await Region.select(Region.id, Region.path).where(
        Region.id.is_in(ids))} if ids else {}
    totals: dict[str, int] = {}
    for key, n in by_origin.items():
        path = paths.get(int(key)) if key.isdigit() else None
        province = _province_path(path) if path else FOREIGN
        totals[province] = totals.get(province, 0) + n
    top = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    provinces = [key for key, _n in top if key != FOREIGN]
    names = {r["path"]: r["name"] for r in await Region.select(Region.path, Region.name).where(
        Region.path.is_in(provinces))} if provinces else {}
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
    hours = [HourColours(h, dict.fromkeys(COLOURS, 0)) for h in range(24)]
    for key, n in _by_key(await _counts("scans", scope, span)).items():
        hour, _sep, colour = key.partition(" ")
        counts = hours[int(hour)].counts
        counts[colour] = counts.get(colour, 0) + n
    return hours


# --- check-ins -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VenueCount:
    venue_id: int
    name: str
    count: int


async def checkins_per_venue(scope: Scope, span: Period, *, limit: int = TOP_VENUES
                             ) -> list[VenueCount]:
    per_venue = {int(k): n for k, n in _by_key(await _counts("checkins", scope, span)).items()}
    top = sorted(per_venue.items(), key=lambda item: (-item[1], item[0]))[:limit]
    names = {r["id"]: r["name"] for r in await Venue.select(Venue.id, Venue.name).where(
        Venue.id.is_in([v for v, _n in top]))} if top else {}
    return [VenueCount(v, names.get(v, ""), n) for v, n in top]


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
    found = await _counts("otp", Scope(), span)
    days: dict[str, list[int]] = {}
    for (day, state), (_f, n) in found.items():
        sums = days.setdefault(day, [0, 0])
        sums[0] += n
        sums[1] += n if state == "burned" else 0
    busy = await _raw(
        "SELECT COUNT(*) AS n FROM (SELECT phone FROM otp_code "
        "WHERE created_at >= {} AND created_at < {} GROUP BY phone "
        "HAVING COUNT(*) >= {}) busy",
        span.start, span.end, OTP_ABUSE_THRESHOLD)
    return OtpStats(
        days=_days(span, {day: tuple(v) for day, v in days.items()}),
        used=sum(n for (_d, state), (_f, n) in found.items() if state == "used"),
        busy_phones=int(busy[0]["n"]))


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
    arrivals = await _counts("arrivals", scope, span)  # per day and per origin: read once
    return Board(
        scope=scope, span=span,
        declarations=await declarations_per_day(scope, span),
        arrivals=_per_day(span, arrivals),
        origins=await top_origins(scope, span, found=arrivals),
        scans=await scans_per_hour(scope, span),
        venues=await checkins_per_venue(scope, span),
        otp=await otp_stats(span) if scope.everything else None,
    )


def local_hour(moment: datetime) -> int:
    return moment.astimezone(LOCAL_TIMEZONE).hour
