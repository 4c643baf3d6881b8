"""Contact tracing (truy vết) for health officials: who was at a venue in a time window, and
whom a person met at the venues they checked in to.

Every stay is a half-open interval ``[checked_in_at, ends_at)`` (``ends_at`` is the check-out
or the default stay, see checkins.py), so two stays overlap when ``a.in < b.end AND
b.in < a.end``; touching stays (one ends exactly when the other begins) do not. The overlap
test runs in SQL on the indexed ``venue`` / ``checked_in_at`` / ``ends_at`` columns: nothing
loads a venue's whole history.

Every query needs a stated reason and is written to the audit log (``record_query``), with
one more entry per person listed so that each citizen sees in their log that their check-ins
were looked at. Venue "point" policies are in ``tracing_points.py``.
"""

from __future__ import annotations

import functools
import math
import operator
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from khaibao.citizens import people
from khaibao.core import audit, clock, db, forms, lazy
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.db import aware
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.qr.scans import ScanKind, classify_scan
from khaibao.tables import CheckIn
from khaibao.tables.venues import BY_SELF, BY_TYPED
from khaibao.vn import phones
from khaibao.vn.identity import ChipCard, ParsedId

MIN_REASON, MAX_REASON = 10, 300
MAX_WINDOW = timedelta(days=31)
MAX_ROWS = 1000  # rows shown on the page; the CSV has every row
MAX_OWN_STAYS = 200  # a person's stays looked at in one query
BATCH = 500

_ERRORS: dict[str, str | lazy.Lazy] = {
    "reason.required": N_("Hãy nêu lý do truy vết (bắt buộc, được ghi vào nhật ký truy cập)."),
    "reason.length": N_("Lý do dài từ 10 đến 300 ký tự."),
    "reason.personal": N_("Lý do không được chứa số giấy tờ, số điện thoại hay mã QR."),
    "venue.required": N_("Hãy chọn điểm đến."),
    "venue.unknown": N_("Không tìm thấy điểm đến này."),
    "start.invalid": N_("Thời điểm bắt đầu không hợp lệ (ngày và giờ)."),
    "end.invalid": N_("Thời điểm kết thúc không hợp lệ (ngày và giờ)."),
    "date_from.invalid": N_("Ngày bắt đầu không hợp lệ."),
    "date_to.invalid": N_("Ngày kết thúc không hợp lệ."),
    "window.order": lazy.pgettext("tracing", "Thời điểm kết thúc phải sau thời điểm bắt đầu."),
    "window.too_long": N_("Khoảng thời gian dài tối đa 31 ngày."),
    "person.required": N_("Hãy nhập số giấy tờ hoặc quét mã QR cá nhân."),
    "person.unknown": N_("Không tìm thấy người có số giấy tờ hoặc mã QR này."),
}


error = error_maker(_ERRORS)


# --- input -------------------------------------------------------------------------------------

def _text(raw: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(raw or "")).split())


def parse_reason(raw: Any) -> str:
    """The stated reason: 10–300 characters, no raw ID/phone numbers or tokens (it goes into
    the audit log, which must never hold them)."""
    reason = _text(raw)
    if not reason:
        raise error("reason.required")
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise error("reason.length")
    try:
        audit.refuse_raw_values(reason)  # the audit log's own test for raw numbers and tokens
    except ValueError:
        raise error("reason.personal") from None
    return reason


def _moment(raw: str, code: str) -> datetime:
    """A ``datetime-local`` value ("2026-11-26T08:00"), read as Vietnam time, in UTC."""
    try:
        value = forms.in_calendar(datetime.fromisoformat(raw.replace(" ", "T", 1)))
    except ValueError:
        raise error(code) from None
    return (value if value.tzinfo else value.replace(tzinfo=LOCAL_TIMEZONE)).astimezone(UTC)


def _day(raw: str, code: str) -> date:
    try:
        if "/" in raw:
            return forms.in_calendar(datetime.strptime(raw, "%d/%m/%Y").date())
        return forms.in_calendar(date.fromisoformat(raw))
    except ValueError:
        raise error(code) from None


def local_input(value: datetime) -> str:
    """A moment as a ``datetime-local`` value in Vietnam time."""
    return value.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def today_local(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(LOCAL_TIMEZONE).date()


@dataclass(frozen=True)
class VenueQuery:
    venue_id: int
    start: datetime  # UTC
    end: datetime  # UTC, after start
    reason: str

    def audit_detail(self) -> dict[str, Any]:
        return {"venue": self.venue_id, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "reason": self.reason}


@dataclass(frozen=True)
class PersonQuery:
    person_id: int
    date_from: date
    date_to: date
    reason: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time(), LOCAL_TIMEZONE).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), time(),
                                LOCAL_TIMEZONE).astimezone(UTC)

    def audit_detail(self) -> dict[str, Any]:
        return {"venue": None, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "reason": self.reason}


def _collect(errors: dict[str, InputError], name: str, parse, *args):
    try:
        return parse(*args)
    except InputError as caught:
        errors.setdefault(name, caught)
        return None


def _check_window(errors: dict[str, InputError], start, end, end_field: str) -> None:
    if start is not None and end is not None:
        if end <= start:
            errors.setdefault(end_field, error("window.order"))
        elif end - start > MAX_WINDOW:
            errors.setdefault(end_field, error("window.too_long"))


def parse_venue_query(form: Mapping[str, Any]) -> VenueQuery:
    """Fields ``venue`` (id), ``tu`` / ``den`` (datetime-local, Vietnam time), ``ly_do``.
    Raises :class:`FormErrors` naming every bad field; the venue's existence is checked by
    the caller (it also checks the officer's scope)."""
    errors: dict[str, InputError] = {}
    raw_venue = _text(form.get("venue"))
    if not raw_venue:
        errors["venue"] = error("venue.required")
    elif forms.row_id(raw_venue) is None:
        errors["venue"] = error("venue.unknown")
    start = _collect(errors, "tu", _moment, _text(form.get("tu")), "start.invalid")
    end = _collect(errors, "den", _moment, _text(form.get("den")), "end.invalid")
    _check_window(errors, start, end, "den")
    reason = _collect(errors, "ly_do", parse_reason, form.get("ly_do"))
    if errors:
        raise FormErrors(errors)
    return VenueQuery(int(raw_venue), start, end, reason)


def parse_person_range(form: Mapping[str, Any]) -> tuple[date, date, str]:
    """Fields ``tu_ngay`` / ``den_ngay`` (dates, both included) and ``ly_do``; the person
    (field ``nguoi``) is found by :func:`find_person`."""
    errors: dict[str, InputError] = {}
    first = _collect(errors, "tu_ngay", _day, _text(form.get("tu_ngay")), "date_from.invalid")
    last = _collect(errors, "den_ngay", _day, _text(form.get("den_ngay")), "date_to.invalid")
    if first is not None and last is not None:
        if last < first:
            errors.setdefault("den_ngay", error("window.order"))
        elif last - first >= MAX_WINDOW:
            errors.setdefault("den_ngay", error("window.too_long"))
    reason = _collect(errors, "ly_do", parse_reason, form.get("ly_do"))
    if errors:
        raise FormErrors(errors)
    return first, last, reason


async def find_person(text: Any, settings) -> people.PersonView:
    """The person of a typed ID number, a scanned personal QR token or a chip-CCCD text;
    :class:`InputError` (field ``nguoi``) when empty or nobody matches."""
    raw = str(text or "").strip()
    if not raw:
        raise error("person.required")
    scan = classify_scan(raw, settings.secret_key)
    person = None
    if scan.kind is ScanKind.PERSON_TOKEN:
        person = await people.find_by_token(raw, settings)
    elif scan.kind is ScanKind.CHIP_CCCD:
        assert isinstance(scan.payload, ChipCard)
        person = await people.find_by_id_number(scan.payload.cccd, settings)
    elif scan.kind is ScanKind.ID_NUMBER:
        assert isinstance(scan.payload, ParsedId)
        person = await people.find_by_id_number(scan.payload.number, settings)
    if person is None:
        raise error("person.unknown")
    return person


# --- results -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stay:
    """One check-in as tracing shows it; ``overlap_minutes`` is its overlap with the window
    or the stay it is listed under (None for a person's own stay)."""

    id: int
    person_id: int
    person_name: str
    id_masked: str
    phone: str  # national format, "" without an account
    venue_id: int
    venue_name: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    ends_at: datetime
    overlap_minutes: int | None = None
    by_kind: str = BY_SELF

    @property
    def typed_id(self) -> bool:
        """Made by venue staff from a typed ID number: nobody showed a QR or a card, so the
        stay is listed (marked) but is not a verified one (venue point policies ignore it)."""
        return self.by_kind == BY_TYPED

    @property
    def auto_ended(self) -> bool:
        """No check-out: the stay ended (or ends) after the default stay."""
        return self.checked_out_at is None


@dataclass
class VenueTrace:
    query: VenueQuery
    rows: list[Stay]
    truncated: bool

    @property
    def person_ids(self) -> list[int]:
        return list(dict.fromkeys(row.person_id for row in self.rows))


@dataclass
class StayContacts:
    stay: Stay
    contacts: list[Stay] = field(default_factory=list)


@dataclass
class PersonTrace:
    query: PersonQuery
    person: people.PersonView
    stays: list[StayContacts]
    truncated: bool

    @property
    def rows(self) -> int:
        return sum(len(item.contacts) for item in self.stays)

    @property
    def person_ids(self) -> list[int]:
        return list(dict.fromkeys(c.person_id for item in self.stays for c in item.contacts))


_COLUMNS = (CheckIn.id, CheckIn.person, CheckIn.venue, CheckIn.checked_in_at,
            CheckIn.checked_out_at, CheckIn.ends_at, CheckIn.by_kind,
            CheckIn.person.full_name.as_alias("person_name"),
            CheckIn.person.id_masked.as_alias("id_masked"),
            CheckIn.person._.account._.phone.as_alias("phone"),
            CheckIn.venue.name.as_alias("venue_name"))


def overlap_minutes(a_in: datetime, a_end: datetime, b_in: datetime, b_end: datetime) -> int:
    """Whole minutes (rounded up) two half-open intervals share; 0 when they only touch."""
    seconds = (min(a_end, b_end) - max(a_in, b_in)).total_seconds()
    return max(0, math.ceil(seconds / 60))


def _phone(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        return phones.national_format(raw)
    except InputError:
        return raw


def _stay(row: Mapping[str, Any], overlap: int | None = None) -> Stay:
    return Stay(id=row["id"], person_id=row["person"], person_name=row["person_name"],
                id_masked=row["id_masked"] or "", phone=_phone(row["phone"]),
                venue_id=row["venue"], venue_name=row["venue_name"],
                checked_in_at=aware(row["checked_in_at"]),
                checked_out_at=aware(row["checked_out_at"]), ends_at=aware(row["ends_at"]),
                overlap_minutes=overlap, by_kind=row["by_kind"])


def _overlapping(venue_id: int, start: datetime, end: datetime):
    """Stays at the venue overlapping ``[start, end)``: ``in < end AND start < ends_at``."""
    return ((CheckIn.venue == venue_id) & (CheckIn.checked_in_at < end)
            & (CheckIn.ends_at > start))


def _window_stay(row: Mapping[str, Any], query: VenueQuery) -> Stay:
    stay = _stay(row)
    return _stay(row, overlap_minutes(stay.checked_in_at, stay.ends_at, query.start, query.end))


async def trace_venue(query: VenueQuery, *, limit: int = MAX_ROWS) -> VenueTrace:
    """Everyone whose stay at the venue overlaps the window, by check-in time."""
    rows = await CheckIn.select(*_COLUMNS).where(
        _overlapping(query.venue_id, query.start, query.end)
    ).order_by(CheckIn.checked_in_at, CheckIn.id).limit(limit + 1)
    return VenueTrace(query, [_window_stay(row, query) for row in rows[:limit]],
                      truncated=len(rows) > limit)


async def venue_batches(query: VenueQuery) -> AsyncIterator[list[Stay]]:
    """Every overlapping stay, ``BATCH`` at a time (keyset by id), for the CSV."""
    last = 0
    while True:
        rows = await CheckIn.select(*_COLUMNS).where(
            _overlapping(query.venue_id, query.start, query.end) & (CheckIn.id > last)
        ).order_by(CheckIn.id).limit(BATCH)
        if not rows:
            return
        last = rows[-1]["id"]
        yield [_window_stay(row, query) for row in rows]


async def trace_person(person: people.PersonView, query: PersonQuery) -> PersonTrace:
    """The person's stays (from every phone that declared their ID number) that overlap the
    date range and, under each, every other person whose stay at the same venue overlaps it.
    Two queries: the person's stays, then one query whose condition is the OR of "same venue
    and overlapping" for each stay (in chunks of 50 stays)."""
    same_person = await people.same_id_person_ids(person.id)  # every phone's row of the ID
    own_rows = await CheckIn.select(*_COLUMNS).where(
        CheckIn.person.is_in(same_person) & (CheckIn.checked_in_at < query.end)
        & (CheckIn.ends_at > query.start)
    ).order_by(CheckIn.checked_in_at, CheckIn.id).limit(MAX_OWN_STAYS + 1)
    stays = [StayContacts(_stay(row)) for row in own_rows[:MAX_OWN_STAYS]]
    for chunk_start in range(0, len(stays), 50):
        chunk = stays[chunk_start:chunk_start + 50]
        condition = functools.reduce(operator.or_, [
            _overlapping(item.stay.venue_id, item.stay.checked_in_at, item.stay.ends_at)
            for item in chunk])
        rows = await CheckIn.select(*_COLUMNS).where(
            CheckIn.person.not_in(same_person) & condition
        ).order_by(CheckIn.checked_in_at, CheckIn.id)
        for row in rows:
            other = _stay(row)
            for item in chunk:
                own = item.stay
                if (other.venue_id == own.venue_id and other.checked_in_at < own.ends_at
                        and own.checked_in_at < other.ends_at):
                    item.contacts.append(_stay(row, overlap_minutes(
                        own.checked_in_at, own.ends_at, other.checked_in_at, other.ends_at)))
    return PersonTrace(query, person, stays, truncated=len(own_rows) > MAX_OWN_STAYS)


# --- audit -------------------------------------------------------------------------------------

async def record_query(action: str, *, officer_id: int, place: str,
                       query: VenueQuery | PersonQuery, rows: int,
                       listed: Sequence[int] = (), extra: Mapping[str, Any] | None = None
                       ) -> None:
    """``trace.query`` / ``trace.export``: who looked, why, at what, how many rows — and a
    ``trace.listed`` entry for each person in the result, so the citizen's own access log
    shows that a health official saw their check-ins."""
    person_id = query.person_id if isinstance(query, PersonQuery) else None
    detail = {**query.audit_detail(), "rows": rows, **(extra or {})}
    async with db.transaction():
        await audit.record(action, actor_kind="officer", actor_id=officer_id,
                           person_id=person_id, place=place, detail=detail)
        for listed_id in dict.fromkeys(listed):
            await audit.record("trace.listed", actor_kind="officer", actor_id=officer_id,
                               person_id=listed_id, place=place,
                               detail={"venue": detail["venue"], "reason": query.reason})
