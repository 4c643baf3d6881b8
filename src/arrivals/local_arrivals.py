"""Arrivals into an area for local officials (người đến địa bàn): who arrived between two
dates (Vietnam time), from where, and what they must do.

Each row shows the person's current requirement: their one verdict at the moment of viewing
(``verdicts.verdicts_of``, which this package sits below: the caller passes it in as
``current_of``), the same colour, measure and reasons as at the checkpoint. The measure the
trip called for when it arrived (``decisions.decide`` at ``arrival_at``) is kept beside it,
shown when it differs. The counts and the filter follow the current requirement. Arrivals are
read newest first in keyset-paged batches: a page shows at most ``MAX_ROWS`` of them, an
export streams every one. Per batch: the arrivals, their places, the region names, the
decisions at arrival, and the verdicts of their persons (a few reads for the whole batch).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from khaibao.arrivals.trips import TRANSPORT_LABELS, country_name
from khaibao.citizens import people
from khaibao.core import clock, forms
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.policies import decisions
from khaibao.policies.decisions import Decision
from khaibao.policies.policies import describe_measure, required_datetime
from khaibao.policies.policy_input import DEFAULT_LOOKBACK_DAYS, SEVERITY
from khaibao.tables import ArrivalDeclaration, ArrivalPlace

DEFAULT_DAYS = 14  # the default range: the last 14 days up to today
MAX_RANGE_DAYS = 366
MAX_ROWS = 500  # rows shown on the page; the export has no cap
MAX_SCAN = 5000  # arrivals whose decision the page computes for its counts
BATCH = 200
QUARANTINE = frozenset({"home", "centralised"})
# (filter value, label); "" = every decision. "quarantine" groups both kinds of isolation.
DECISION_FILTERS: tuple[tuple[str, str], ...] = (
    ("", N_("Tất cả")),
    ("quarantine", N_("Phải cách ly (tập trung hoặc tại nhà)")),
    ("centralised", N_("Cách ly tập trung")),
    ("home", N_("Cách ly tại nhà")),
    ("custom", N_("Biện pháp khác")),
    ("test", N_("Xét nghiệm khi đến")),
    ("self_monitor", N_("Tự theo dõi sức khỏe")),
    ("none", N_("Không áp dụng biện pháp")),
)
FILTER_VALUES = frozenset(value for value, _label in DECISION_FILTERS)
# Measures from the most to the least severe, for the counts.
MEASURE_ORDER = tuple(reversed(SEVERITY))
COLOUR_ORDER = ("red", "yellow", "green")  # the verdict's colours, for the counts

_ERRORS = {
    "date.invalid": N_("Ngày không hợp lệ (dd/mm/yyyy)."),
    "date.order": N_("“Đến ngày” phải từ “Từ ngày” trở đi."),
    "date.range": N_("Chỉ xem được tối đa 366 ngày một lần."),
    "decision.invalid": N_("Kết quả không hợp lệ. Hãy chọn trong danh sách."),
}


error = error_maker(_ERRORS)


@dataclass(frozen=True)
class ArrivalFilter:
    region_code: str
    region_path: str
    date_from: date
    date_to: date
    decision: str = ""

    def audit_detail(self) -> dict[str, str]:
        return {"region": self.region_code, "from": self.date_from.isoformat(),
                "to": self.date_to.isoformat(), "decision": self.decision or "all"}


class Requirement(Protocol):
    """What applies to a person now: a ``verdicts.Verdict`` (colour, reasons, and the
    decision giving the measure; None when the person has nothing to decide)."""

    colour: str
    reasons: list[str]
    decision: Decision | None


# The current requirement of each of these persons (``verdicts.verdicts_of`` at one moment).
CurrentOf = Callable[[list[int]], Awaitable[Mapping[int, Requirement]]]


def _measure_key(decision: Decision | None) -> tuple[str, int | None, str]:
    if decision is None or decision.measure == "none":
        return "none", None, ""
    return decision.measure, decision.days, decision.custom_text


@dataclass
class LocalArrival:
    """``transport_label`` is marked with ``N_``: translate it where it is shown.
    ``current``: the person's requirement now; ``at_arrival``: the trip's decision when it
    arrived."""

    id: int
    person_id: int
    person_name: str
    id_masked: str
    origin_label: str
    passed_labels: list[str]
    departure_date: date
    arrival_at: datetime
    destination_label: str
    destination_detail: str
    transport: str
    transport_label: str
    vehicle_number: str
    checkpoint_name: str
    purpose: str
    current: Requirement
    at_arrival: Decision

    @property
    def measure(self) -> str:
        """The measure that applies now ("none" when none does)."""
        return _measure_key(self.current.decision)[0]

    def describe_now(self, lang: str) -> str:
        """The measure that applies now, in words ("Không áp dụng biện pháp" for none)."""
        return describe_measure(*_measure_key(self.current.decision), lang)

    @property
    def changed(self) -> bool:
        """Whether the measure at arrival differs from the one now (then both are shown)."""
        return _measure_key(self.current.decision) != _measure_key(self.at_arrival)


@dataclass
class Overview:
    rows: list[LocalArrival]
    total: int  # arrivals in the area and dates, whatever their decision
    counts: dict[str, int] = field(default_factory=dict)  # measure → arrivals (of those scanned)
    colours: dict[str, int] = field(default_factory=dict)  # colour now → arrivals (scanned)
    matching: int = 0  # of those scanned, how many pass the decision filter
    scanned: int = 0

    @property
    def truncated(self) -> bool:
        return self.matching > len(self.rows)

    @property
    def partial(self) -> bool:
        """True when the counts cover only the newest ``MAX_SCAN`` arrivals."""
        return self.scanned < self.total


def matches(decision_filter: str, measure: str) -> bool:
    if not decision_filter:
        return True
    if decision_filter == "quarantine":
        return measure in QUARANTINE
    return measure == decision_filter


# --- the filter form -------------------------------------------------------------------------

def today_local(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(LOCAL_TIMEZONE).date()


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _date(raw: str) -> date:
    try:
        return forms.in_calendar(date.fromisoformat(raw))
    except ValueError:
        pass
    try:  # typed by hand where the browser has no date picker
        return forms.in_calendar(datetime.strptime(raw, "%d/%m/%Y").date())
    except ValueError:
        raise error("date.invalid") from None


def parse_range(raw_from: str | None, raw_to: str | None, decision: str | None, *,
                today: date) -> tuple[date, date, str]:
    """Dates (``YYYY-MM-DD`` or ``dd/mm/yyyy``; empty = the default range) and decision filter.
    Raises :class:`FormErrors` with fields ``tu``, ``den``, ``ket_qua``."""
    errors: dict[str, InputError] = {}
    start, end = default_range(today)
    raw_from, raw_to = (raw_from or "").strip(), (raw_to or "").strip()
    try:
        start = _date(raw_from) if raw_from else start
    except InputError as exc:
        errors["tu"] = exc
    try:
        end = _date(raw_to) if raw_to else end
    except InputError as exc:
        errors["den"] = exc
    if not errors and end < start:
        errors["den"] = error("date.order")
    elif not errors and (end - start).days >= MAX_RANGE_DAYS:
        errors["tu"] = error("date.range")
    decision = (decision or "").strip()
    if decision not in FILTER_VALUES:
        errors["ket_qua"] = error("decision.invalid")
    if errors:
        raise FormErrors(errors)
    return start, end, decision


def local_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of ``date_from``, start of the day after ``date_to``) in Vietnam time, as UTC."""
    start = datetime.combine(date_from, time(), LOCAL_TIMEZONE).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), LOCAL_TIMEZONE)
    return start, end.astimezone(UTC)


# --- reading ---------------------------------------------------------------------------------

_COLUMNS = (
    ArrivalDeclaration.id, ArrivalDeclaration.origin_country, ArrivalDeclaration.origin_detail,
    ArrivalDeclaration.departure_date, ArrivalDeclaration.arrival_at,
    ArrivalDeclaration.transport, ArrivalDeclaration.vehicle_number,
    ArrivalDeclaration.destination_path, ArrivalDeclaration.destination_detail,
    ArrivalDeclaration.purpose, ArrivalDeclaration.person,
    ArrivalDeclaration.person.full_name.as_alias("person_name"),
    ArrivalDeclaration.person.id_masked.as_alias("id_masked"),
    ArrivalDeclaration.origin_region.path.as_alias("origin_path"),
    ArrivalDeclaration.checkpoint.name.as_alias("checkpoint_name"),
)


def _where(query: ArrivalFilter):
    start, end = local_bounds(query.date_from, query.date_to)
    return (ArrivalDeclaration.destination_path.like(query.region_path + "%")
            & (ArrivalDeclaration.arrival_at >= start) & (ArrivalDeclaration.arrival_at < end))


async def count(query: ArrivalFilter) -> int:
    """Arrivals in the area and dates, whatever their decision."""
    return await ArrivalDeclaration.count().where(_where(query))


async def _build(rows: Sequence[Mapping[str, Any]], current_of: CurrentOf
                 ) -> list[LocalArrival]:
    places = await decisions.places_of_arrivals([r["id"] for r in rows])
    paths = {r["destination_path"] for r in rows} | {r["origin_path"] for r in rows
                                                     if r["origin_path"]}
    paths |= {place.region_path for ps in places.values() for place, _o in ps}
    labels = await people.region_labels(paths)
    decided = await decisions.decide_many(
        [([p for p, _o in places.get(r["id"], [])], required_datetime(r["arrival_at"]))
         for r in rows])
    current = await current_of(list(dict.fromkeys(r["person"] for r in rows)))
    built = []
    for r, decision in zip(rows, decided, strict=True):
        arrival_at = required_datetime(r["arrival_at"])
        own = places.get(r["id"], [])
        origin = (labels.get(r["origin_path"], "") if r["origin_path"]
                  else country_name(r["origin_country"]))
        if r["origin_detail"]:
            origin = f"{r['origin_detail']}, {origin}" if origin else r["origin_detail"]
        built.append(LocalArrival(
            id=r["id"], person_id=r["person"], person_name=r["person_name"] or "",
            id_masked=r["id_masked"] or "", origin_label=origin,
            passed_labels=[labels.get(p.region_path, "") for p, is_origin in own
                           if not is_origin],
            departure_date=r["departure_date"], arrival_at=arrival_at,
            destination_label=labels.get(r["destination_path"], ""),
            destination_detail=r["destination_detail"] or "", transport=r["transport"],
            transport_label=TRANSPORT_LABELS.get(r["transport"], r["transport"]),
            vehicle_number=r["vehicle_number"] or "", checkpoint_name=r["checkpoint_name"] or "",
            purpose=r["purpose"] or "", current=current[r["person"]], at_arrival=decision))
    return built


async def _all_batches(query: ArrivalFilter, current_of: CurrentOf, size: int = BATCH
                       ) -> AsyncIterator[list[LocalArrival]]:
    """Every arrival of the area and dates, newest first, ``size`` at a time (keyset paging on
    (arrival_at, id), so a long export costs the same per batch from start to end)."""
    where = _where(query)
    last: tuple[datetime, int] | None = None
    while True:
        condition = where
        if last is not None:
            at, last_id = last
            condition = where & ((ArrivalDeclaration.arrival_at < at) | (
                (ArrivalDeclaration.arrival_at == at) & (ArrivalDeclaration.id < last_id)))
        rows = await ArrivalDeclaration.select(*_COLUMNS).where(condition).order_by(
            ArrivalDeclaration.arrival_at, ArrivalDeclaration.id, ascending=False).limit(size)
        if not rows:
            return
        yield await _build(rows, current_of)
        if len(rows) < size:
            return
        last = (required_datetime(rows[-1]["arrival_at"]), rows[-1]["id"])


async def batches(query: ArrivalFilter, current_of: CurrentOf, size: int = BATCH
                  ) -> AsyncIterator[list[LocalArrival]]:
    """The arrivals whose current measure passes the decision filter, newest first, in
    batches (for exports)."""
    async for batch in _all_batches(query, current_of, size):
        kept = [a for a in batch if matches(query.decision, a.measure)]
        if kept:
            yield kept


async def overview(query: ArrivalFilter, current_of: CurrentOf, *, limit: int = MAX_ROWS,
                   scan_limit: int = MAX_SCAN) -> Overview:
    """The page: counts by current measure and colour, and the newest ``limit`` arrivals
    passing the filter."""
    result = Overview(rows=[], total=await count(query),
                      counts=dict.fromkeys(MEASURE_ORDER, 0),
                      colours=dict.fromkeys(COLOUR_ORDER, 0))
    async for batch in _all_batches(query, current_of):
        for arrival in batch:
            result.scanned += 1
            measure = arrival.measure
            result.counts[measure] = result.counts.get(measure, 0) + 1
            colour = arrival.current.colour
            result.colours[colour] = result.colours.get(colour, 0) + 1
            if matches(query.decision, measure):
                result.matching += 1
                if len(result.rows) < limit:
                    result.rows.append(arrival)
        if result.scanned >= scan_limit:
            break
    return result


@dataclass(frozen=True)
class AffectedArrival:
    person_name: str
    id_masked: str
    place_label: str  # the place inside the policy's area they passed
    arrival_at: datetime
    destination_label: str


async def affected_sample(target_path: str, *, at: datetime, limit: int = 5,
                          lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> list[AffectedArrival]:
    """The newest arrivals counted by ``decisions.preview_affected`` (arrived within the
    lookback up to ``at`` and passed through ``target_path``), for the policy preview."""
    since = at - timedelta(days=lookback_days)
    rows = await ArrivalPlace.select(
        ArrivalPlace.arrival, ArrivalPlace.path,
        ArrivalPlace.arrival.arrival_at.as_alias("arrival_at"),
        ArrivalPlace.arrival.destination_path.as_alias("destination_path"),
        ArrivalPlace.arrival._.person._.full_name.as_alias("person_name"),
        ArrivalPlace.arrival._.person._.id_masked.as_alias("id_masked"),
    ).where(ArrivalPlace.path.like(target_path + "%"), ArrivalPlace.arrival.arrival_at >= since,
            ArrivalPlace.arrival.arrival_at <= at).order_by(
        ArrivalPlace.arrival.arrival_at, ArrivalPlace.arrival, ascending=False
    ).limit(limit * 4)
    seen: dict[int, Mapping[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["arrival"], row)
    chosen = list(seen.values())[:limit]
    labels = await people.region_labels({r["path"] for r in chosen}
                                 | {r["destination_path"] for r in chosen})
    return [AffectedArrival(r["person_name"] or "", r["id_masked"] or "",
                            labels.get(r["path"], ""), required_datetime(r["arrival_at"]),
                            labels.get(r["destination_path"], "")) for r in chosen]
