"""Arrivals into the province (khai báo về địa phương): where a person comes from, the places
passed on the way, how and when they arrive, and where they will stay.

A submission covers one or more persons travelling together and, like health declarations,
is all-or-nothing (one write transaction) and idempotent: arrival *n* of a submission is
stored as ``{client_ref}:{n}``, so a double tap or an offline replay returns the first
submission instead of adding one. Each arrival copies its destination's region path, so
"arrivals into ward Y" is one prefix range scan. Until a day after the arrival, the phone
that declared it may correct its trip or withdraw it (audited).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from khaibao.arrivals.trips import (
    MAX_TEXT,
    TRANSPORT_LABELS,
    WARD_KINDS,
    TripData,
    country_name,
    origin_inside_province,
    outside_province,
    trip_error,
)
from khaibao.citizens import people, submissions
from khaibao.citizens.people import PersonView
from khaibao.citizens.person_input import PersonData
from khaibao.core import audit, clock, db
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import N_
from khaibao.tables import ArrivalDeclaration, ArrivalPlace, Checkpoint, Region
from khaibao.vn import collation


@dataclass
class ArrivalSubmission:
    client_ref: str
    submitted_at: datetime
    arrival_ids: list[int]
    persons: list[PersonView]
    replayed: bool


@dataclass
class ArrivalView:
    """``transport_label`` is marked with ``N_``: translate it where it is shown."""

    id: int
    person_id: int
    person_name: str
    submitted_at: datetime
    origin_label: str
    origin_region_code: str | None
    passed_labels: list[str]
    departure_date: date
    arrival_at: datetime
    transport: str
    transport_label: str
    vehicle_number: str
    checkpoint_name: str
    destination_label: str
    destination_detail: str
    purpose: str
    channel: str


@dataclass
class CheckpointView:
    id: int
    name: str
    place: str
    region_code: str | None


ARRIVAL = submissions.Kind("arrival", ArrivalDeclaration, ArrivalSubmission)


async def submission(account_id: int | None, client_ref: str, settings, *,
                     officer_id: int | None = None) -> ArrivalSubmission | None:
    """A past arrival submission by its ``client_ref`` (see :func:`submissions.submission`)."""
    return await submissions.submission(ARRIVAL, account_id, client_ref, settings,
                                        officer_id=officer_id)


async def _trip_regions(trip: TripData, province_code: str, province_name: str,
                        errors: dict[str, InputError]) -> dict[str, dict[str, Any]]:
    """code → region row (id, path, kind) of every region of the trip; adds the problems
    (unknown, not a ward, destination outside the province) to ``errors``."""
    codes = {c for c in (trip.origin_region_code, trip.destination_region_code,
                         *trip.passed_region_codes) if c}
    rows = {r["code"]: r for r in await Region.select(
        Region.id, Region.code, Region.path, Region.kind).where(
        Region.code.is_in(sorted(codes)))} if codes else {}
    if trip.origin_region_code is not None:
        origin = rows.get(trip.origin_region_code)
        if origin is None:
            errors["origin_region"] = trip_error("region.unknown")
        elif f"/{province_code}/" in origin["path"]:
            errors["origin_region"] = origin_inside_province(province_name)
        elif origin["kind"] not in WARD_KINDS:
            errors["origin_region"] = trip_error("region.too_coarse")
    if any(code not in rows for code in trip.passed_region_codes):
        errors["passed_regions"] = trip_error("region.unknown")
    destination = rows.get(trip.destination_region_code)
    if destination is None:
        errors["destination_region"] = trip_error("region.unknown")
    elif f"/{province_code}/" not in destination["path"]:
        errors["destination_region"] = outside_province(province_name)
    elif destination["kind"] not in WARD_KINDS:
        errors["destination_region"] = trip_error("region.too_coarse")
    return rows


async def _check_trip(trip: TripData, province_code: str, province_name: str,
                      errors: dict[str, InputError]) -> dict[str, dict[str, Any]]:
    """The trip's regions (:func:`_trip_regions`); adds an unknown or closed checkpoint to
    ``errors``."""
    regions = await _trip_regions(trip, province_code, province_name, errors)
    if trip.checkpoint_id is not None and not await Checkpoint.exists().where(
            (Checkpoint.id == trip.checkpoint_id) & (Checkpoint.active == True)):  # noqa: E712
        errors["checkpoint"] = trip_error("checkpoint.unknown")
    return regions


async def _add_places(arrival_ids: Sequence[int], trip: TripData,
                      regions: dict[str, dict[str, Any]]) -> None:
    """The origin and the places passed through of each arrival (for policy matching)."""
    origin = regions.get(trip.origin_region_code) if trip.origin_region_code else None
    places = ([(origin, True)] if origin else []) + [
        (regions[code], False) for code in trip.passed_region_codes]
    if places:
        await ArrivalPlace.insert(*(ArrivalPlace(
            arrival=arrival_id, region=region["id"], path=region["path"], is_origin=flag,
        ) for arrival_id in arrival_ids for region, flag in places)).run()


async def submit(account_id: int | None, *, person_ids: Sequence[int],
                 new_persons: Sequence[PersonData],
                 trip: TripData, client_ref: str, settings, province_code: str,
                 province_name: str, channel: str = "self", officer_id: int | None = None,
                 now: datetime | None = None) -> ArrivalSubmission:
    """Declare the arrival of the chosen persons of the account and the new ones travelling
    together, all or nothing: one arrival per person, with the origin and the places passed
    (:func:`submissions.submit`: its errors, replays and concurrency).

    Also raises :class:`FormErrors` ``origin_region`` / ``passed_regions`` /
    ``destination_region`` (unknown, not a ward, origin inside or destination outside the
    province) and
    ``checkpoint`` (unknown or closed). ``account_id=None``: officer or kiosk entry, as in
    :func:`declarations.submit`.
    """
    if trip.arrival_at.tzinfo is None:
        raise ValueError("trip.arrival_at must be timezone-aware")

    async def check(errors: dict[str, InputError]) -> dict[str, dict[str, Any]]:
        return await _check_trip(trip, province_code, province_name, errors)

    async def write(declared: list[int], persons: dict[int, dict[str, Any]],
                    regions: dict[str, dict[str, Any]], now: datetime) -> list[int]:
        destination = regions[trip.destination_region_code]
        origin = regions.get(trip.origin_region_code) if trip.origin_region_code else None
        rows = await ArrivalDeclaration.insert(*(ArrivalDeclaration(
            person=person_id, account=account_id, client_ref=f"{client_ref}:{n}",
            submitted_at=now,
            channel=submissions.channel_for(channel, bool(persons[person_id]["is_owner"])),
            origin_country=trip.origin_country, origin_region=origin["id"] if origin else None,
            origin_detail=trip.origin_detail, departure_date=trip.departure_date,
            arrival_at=trip.arrival_at.astimezone(UTC), transport=trip.transport,
            vehicle_number=trip.vehicle_number, checkpoint=trip.checkpoint_id,
            destination_region=destination["id"], destination_path=destination["path"],
            destination_detail=trip.destination_detail, purpose=trip.purpose,
            contact_phone=trip.contact_phone, officer_id=officer_id,
        ) for n, person_id in enumerate(declared))).returning(
            ArrivalDeclaration.id, ArrivalDeclaration.client_ref).run()
        by_ref = {r["client_ref"]: r["id"] for r in rows}
        arrival_ids = [by_ref[f"{client_ref}:{n}"] for n in range(len(declared))]
        await _add_places(arrival_ids, trip, regions)
        return arrival_ids

    return await submissions.submit(
        ARRIVAL, account_id, person_ids=person_ids, new_persons=new_persons,
        client_ref=client_ref, settings=settings, channel=channel, officer_id=officer_id,
        now=now, write=write, check=check)


# --- a citizen's corrections and withdrawals ---------------------------------------------------

# How long after the (expected) arrival its declarer may still correct or withdraw it: the
# day of a late bus; after that the checkpoint and the ward have acted on what was declared.
CHANGEABLE_AFTER_ARRIVAL = timedelta(days=1)


def changeable(arrival_at: datetime, now: datetime) -> bool:
    """May the declarer still correct or withdraw an arrival expected at ``arrival_at``?"""
    return arrival_at >= now - CHANGEABLE_AFTER_ARRIVAL


@dataclass(frozen=True)
class StoredTrip:
    """One of the phone's arrivals as declared, to correct it: ``values`` are the keys of
    :func:`trips.parse_trip` as a form holds them (the arrival time in Vietnam time)."""

    arrival_id: int
    person_id: int
    person_name: str
    arrival_at: datetime
    values: dict[str, Any]


def too_late_to_change() -> InputError:
    return InputError("arrival.too_late_to_change", N_(
        "Chuyến đi này đã qua hơn một ngày: không sửa hoặc huỷ khai báo được nữa. Nếu cần, "
        "hãy khai báo chuyến đi mới."))


async def own_arrival(account_id: int, arrival_id: int) -> StoredTrip | None:
    """The arrival ``arrival_id`` if it is of a person of this phone, else None."""
    row = await ArrivalDeclaration.select(
        ArrivalDeclaration.id, ArrivalDeclaration.person, ArrivalDeclaration.origin_country,
        ArrivalDeclaration.origin_detail, ArrivalDeclaration.departure_date,
        ArrivalDeclaration.arrival_at, ArrivalDeclaration.transport,
        ArrivalDeclaration.vehicle_number, ArrivalDeclaration.checkpoint,
        ArrivalDeclaration.destination_detail, ArrivalDeclaration.purpose,
        ArrivalDeclaration.contact_phone,
        ArrivalDeclaration.person.full_name.as_alias("person_name"),
        ArrivalDeclaration.origin_region.code.as_alias("origin_code"),
        ArrivalDeclaration.destination_region.code.as_alias("destination_code"),
    ).where((ArrivalDeclaration.id == arrival_id)
            & (ArrivalDeclaration.person.account == account_id)).first()
    if row is None:
        return None
    passed = [r["code"] for r in await ArrivalPlace.select(
        ArrivalPlace.region.code.as_alias("code")).where(
        (ArrivalPlace.arrival == arrival_id) & (ArrivalPlace.is_origin == False)  # noqa: E712
    ).order_by(ArrivalPlace.id)]
    arrival_at = db.aware(row["arrival_at"])
    return StoredTrip(arrival_id, row["person"], row["person_name"] or "", arrival_at, {
        "origin_country": row["origin_country"], "origin_region": row["origin_code"] or "",
        "origin_detail": row["origin_detail"], "passed_regions": tuple(passed),
        "departure_date": row["departure_date"].isoformat(),
        "arrival_at": arrival_at.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M"),
        "transport": row["transport"], "vehicle_number": row["vehicle_number"],
        "checkpoint": str(row["checkpoint"] or ""),
        "destination_region": row["destination_code"] or "",
        "destination_detail": row["destination_detail"], "purpose": row["purpose"],
        "contact_phone": row["contact_phone"],
    })


async def _changeable_own(account_id: int, arrival_id: int, now: datetime) -> StoredTrip:
    stored = await own_arrival(account_id, arrival_id)
    if stored is None:
        raise LookupError(f"no arrival {arrival_id} of this phone")
    if not changeable(stored.arrival_at, now):
        raise FormErrors({"arrival": too_late_to_change()})
    return stored


async def correct(account_id: int, arrival_id: int, trip: TripData, *, province_code: str,
                  province_name: str, now: datetime | None = None) -> None:
    """Replace the trip of one of the phone's arrivals (the person stays), audited; ward
    lists and checkpoints then see only the corrected trip. ``LookupError`` for an arrival
    not of this phone; :class:`FormErrors` as :func:`submit` for the trip, and ``arrival``
    when it is no longer :func:`changeable`."""
    if trip.arrival_at.tzinfo is None:
        raise ValueError("trip.arrival_at must be timezone-aware")
    now = now or clock.now()
    stored = await _changeable_own(account_id, arrival_id, now)
    errors: dict[str, InputError] = {}
    regions = await _check_trip(trip, province_code, province_name, errors)
    if errors:
        raise FormErrors(errors)
    destination = regions[trip.destination_region_code]
    origin = regions.get(trip.origin_region_code) if trip.origin_region_code else None
    async with db.write_transaction():
        await ArrivalDeclaration.update({
            ArrivalDeclaration.origin_country: trip.origin_country,
            ArrivalDeclaration.origin_region: origin["id"] if origin else None,
            ArrivalDeclaration.origin_detail: trip.origin_detail,
            ArrivalDeclaration.departure_date: trip.departure_date,
            ArrivalDeclaration.arrival_at: trip.arrival_at.astimezone(UTC),
            ArrivalDeclaration.transport: trip.transport,
            ArrivalDeclaration.vehicle_number: trip.vehicle_number,
            ArrivalDeclaration.checkpoint: trip.checkpoint_id,
            ArrivalDeclaration.destination_region: destination["id"],
            ArrivalDeclaration.destination_path: destination["path"],
            ArrivalDeclaration.destination_detail: trip.destination_detail,
            ArrivalDeclaration.purpose: trip.purpose,
            ArrivalDeclaration.contact_phone: trip.contact_phone,
        }).where(ArrivalDeclaration.id == arrival_id)
        await ArrivalPlace.delete().where(ArrivalPlace.arrival == arrival_id)
        await _add_places([arrival_id], trip, regions)
        await audit.record("arrival.correct", actor_kind="citizen", actor_id=account_id,
                           person_id=stored.person_id, detail={"arrival": arrival_id},
                           now=now)


async def withdraw(account_id: int, arrival_id: int, *, now: datetime | None = None) -> None:
    """Delete one of the phone's arrivals (and its places), audited. ``LookupError`` for an
    arrival not of this phone; :class:`FormErrors` ``arrival`` when it is no longer
    :func:`changeable`."""
    now = now or clock.now()
    stored = await _changeable_own(account_id, arrival_id, now)
    async with db.write_transaction():
        await ArrivalPlace.delete().where(ArrivalPlace.arrival == arrival_id)
        await ArrivalDeclaration.delete().where(ArrivalDeclaration.id == arrival_id)
        await audit.record("arrival.withdraw", actor_kind="citizen", actor_id=account_id,
                           person_id=stored.person_id, detail={"arrival": arrival_id},
                           now=now)


# --- reading ---------------------------------------------------------------------------------


_VIEW_COLUMNS = (
    ArrivalDeclaration.id, ArrivalDeclaration.person, ArrivalDeclaration.submitted_at,
    ArrivalDeclaration.channel, ArrivalDeclaration.origin_country,
    ArrivalDeclaration.origin_detail, ArrivalDeclaration.departure_date,
    ArrivalDeclaration.arrival_at, ArrivalDeclaration.transport,
    ArrivalDeclaration.vehicle_number, ArrivalDeclaration.destination_path,
    ArrivalDeclaration.destination_detail, ArrivalDeclaration.purpose,
    ArrivalDeclaration.person.full_name.as_alias("person_name"),
    ArrivalDeclaration.origin_region.code.as_alias("origin_code"),
    ArrivalDeclaration.origin_region.path.as_alias("origin_path"),
    ArrivalDeclaration.checkpoint.name.as_alias("checkpoint_name"),
)


async def _views(where, limit: int | None = None) -> list[ArrivalView]:
    """Arrivals matching ``where``, newest arrival first, in three queries whatever the count:
    the arrivals, their places passed, and the names of every region involved."""
    query = ArrivalDeclaration.select(*_VIEW_COLUMNS).where(where).order_by(
        ArrivalDeclaration.arrival_at, ArrivalDeclaration.id, ascending=False)
    if limit is not None:
        query = query.limit(limit)
    rows = await query
    if not rows:
        return []
    passed: dict[int, list[str]] = {}
    for place in await ArrivalPlace.select(
            ArrivalPlace.arrival, ArrivalPlace.path).where(
            ArrivalPlace.arrival.is_in([r["id"] for r in rows])
            & (ArrivalPlace.is_origin == False)).order_by(ArrivalPlace.id):  # noqa: E712
        passed.setdefault(place["arrival"], []).append(place["path"])
    paths = {r["destination_path"] for r in rows} | {r["origin_path"] for r in rows
                                                     if r["origin_path"]}
    paths |= {p for ps in passed.values() for p in ps}
    labels = await people.region_labels(paths)
    views = []
    for r in rows:
        if r["origin_path"]:
            origin = labels.get(r["origin_path"], "")
        else:
            origin = country_name(r["origin_country"])
        if r["origin_detail"]:
            origin = f"{r['origin_detail']}, {origin}" if origin else r["origin_detail"]
        arrival_at = r["arrival_at"]
        views.append(ArrivalView(
            id=r["id"], person_id=r["person"], person_name=r["person_name"] or "",
            submitted_at=r["submitted_at"], origin_label=origin,
            origin_region_code=r["origin_code"],
            passed_labels=[labels.get(p, "") for p in passed.get(r["id"], [])],
            departure_date=r["departure_date"], arrival_at=arrival_at,
            transport=r["transport"],
            transport_label=TRANSPORT_LABELS.get(r["transport"], r["transport"]),
            vehicle_number=r["vehicle_number"], checkpoint_name=r["checkpoint_name"] or "",
            destination_label=labels.get(r["destination_path"], ""),
            destination_detail=r["destination_detail"], purpose=r["purpose"],
            channel=r["channel"],
        ))
    return views


async def arrivals_of_account(account_id: int) -> dict[int, list[ArrivalView]]:
    """The account's arrivals by person id, each person's newest arrival first."""
    grouped: dict[int, list[ArrivalView]] = {}
    for view in await _views(ArrivalDeclaration.person.account == account_id):
        grouped.setdefault(view.person_id, []).append(view)
    return grouped


async def last_arrival(person_id: int) -> ArrivalView | None:
    """The person's arrival with the latest arrival time, if any."""
    views = await _views(ArrivalDeclaration.person == person_id, limit=1)
    return views[0] if views else None


async def last_arrivals(person_ids: Sequence[int]) -> dict[int, ArrivalView]:
    """:func:`last_arrival` of each person that has one (three queries for them all)."""
    if not person_ids:
        return {}
    latest: dict[int, ArrivalView] = {}
    for view in await _views(ArrivalDeclaration.person.is_in(list(dict.fromkeys(person_ids)))):
        latest.setdefault(view.person_id, view)  # newest first
    return latest


def _local_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start of ``date_from``, start of the day after ``date_to``) in Vietnam time, as UTC."""
    start = datetime.combine(date_from, time(), LOCAL_TIMEZONE).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), LOCAL_TIMEZONE).astimezone(UTC)
    return start, end


async def _into_where(region_code: str, date_from: date, date_to: date):
    row = await Region.select(Region.path).where(Region.code == region_code).first()
    if row is None or date_to < date_from:
        return None, ""
    start, end = _local_bounds(date_from, date_to)
    return (ArrivalDeclaration.destination_path.like(row["path"] + "%")
            & (ArrivalDeclaration.arrival_at >= start)
            & (ArrivalDeclaration.arrival_at < end)), row["path"]


async def arrivals_into(region_code: str, *, date_from: date, date_to: date,
                        limit: int = 500) -> list[ArrivalView]:
    """Arrivals whose destination lies in the region (or is it), arriving between the two
    dates (Vietnam time, both included), newest first; [] for an unknown region."""
    where, _path = await _into_where(region_code, date_from, date_to)
    if where is None:
        return []
    return await _views(where, limit=limit)


async def count_into(region_code: str, *, date_from: date, date_to: date) -> int:
    """How many arrivals :func:`arrivals_into` would list without its limit."""
    where, _path = await _into_where(region_code, date_from, date_to)
    if where is None:
        return 0
    return await ArrivalDeclaration.count().where(where)


# --- checkpoints -----------------------------------------------------------------------------


async def checkpoints(*, active_only: bool = True) -> list[CheckpointView]:
    """The checkpoints by name (only the active ones unless ``active_only=False``)."""
    query = Checkpoint.select(Checkpoint.id, Checkpoint.name, Checkpoint.place,
                              Checkpoint.region.code.as_alias("region_code"))
    if active_only:
        query = query.where(Checkpoint.active == True)  # noqa: E712
    rows = sorted(await query, key=lambda r: (collation.sort_key(r["name"]), r["id"]))
    return [CheckpointView(r["id"], r["name"], r["place"], r["region_code"]) for r in rows]


async def add_checkpoint(name: str, *, region_code: str | None = None, place: str = "",
                         now: datetime | None = None) -> int:
    """Add an active checkpoint; return its id. ``ValueError`` for an empty or too long name
    or place, ``LookupError`` for an unknown region."""
    name = " ".join(unicodedata.normalize("NFC", name or "").split())
    place = " ".join(unicodedata.normalize("NFC", place or "").split())
    if not name or len(name) > 120:
        raise ValueError("a checkpoint needs a name of at most 120 characters")
    if len(place) > MAX_TEXT:
        raise ValueError("a checkpoint's place is at most 200 characters")
    region_id = None
    if region_code:
        row = await Region.select(Region.id).where(Region.code == region_code).first()
        if row is None:
            raise LookupError(f"no region {region_code}")
        region_id = row["id"]
    rows = await Checkpoint.insert(Checkpoint(
        name=name, region=region_id, place=place, active=True,
        created_at=now or clock.now())).returning(Checkpoint.id).run()
    return rows[0]["id"]
