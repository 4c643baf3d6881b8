"""Venues (điểm đến): the form's rules, storing and reading venues, their poster codes, and
which staff run them.

A poster's QR holds ``{base_url}/v/{code}``: the code is a signed venue token (tokens.py)
built from the venue's random ``code_reference``, so altering one character makes it invalid
and nothing about the venue is inside. Re-issuing the code retires every printed poster.

A venue's area is optional (tracing works by venue; without an area its check-ins count only
in whole-deployment numbers and no area policy reaches them), but when given it lies inside
the deployment's province. Two venues of one area (or two without an area) never share a
name, ignoring case and repeated spaces (not diacritics), paused venues included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.core import audit, clock, db
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.core.kept import MISSING, Kept
from khaibao.core.text import fold_diacritics
from khaibao.qr import tokens
from khaibao.tables import OfficerVenue, Region, Venue
from khaibao.vn.collation import name_taken

KINDS: tuple[tuple[str, str], ...] = (
    ("office", N_("Cơ quan, văn phòng")),
    ("market", N_("Chợ")),
    ("school", N_("Trường học")),
    ("shop", N_("Cửa hàng, siêu thị")),
    ("restaurant", N_("Nhà hàng, quán ăn")),
    ("hospital", N_("Bệnh viện, cơ sở y tế")),
    ("checkpoint", N_("Chốt kiểm soát")),
    ("event", N_("Sự kiện")),
    ("other", N_("Khác")),
)
KIND_LABELS = dict(KINDS)
MAX_DAILY_VISITORS = 1_000_000
NAMES_LOCK = "venue.names"  # db.lock() name: one venue name check-and-store at a time

_ERRORS = {
    "venue.name_required": N_("Vui lòng nhập tên điểm đến."),
    "venue.name_length": N_("Tên điểm đến dài từ 2 đến 150 ký tự."),
    "venue.kind_invalid": N_("Vui lòng chọn loại điểm đến."),
    "venue.region_unknown": N_("Không tìm thấy địa bàn này."),
    "venue.address_length": N_("Địa chỉ dài tối đa 200 ký tự."),
    "venue.owner_length": N_("Tên đơn vị quản lý dài tối đa 150 ký tự."),
    "venue.visitors_invalid": N_("Số lượt khách mỗi ngày là một số từ 1 đến 1.000.000."),
    "venue.name_taken": N_("Đã có điểm đến tên này trong địa bàn này."),
}
# Plain digits, or digits grouped in threes by one kind of separator: "1000", "1.000",
# "12,500", "1 000 000". "12.5" or "1,5" (a decimal) and "1.00" are not counts.
_COUNT = re.compile(r"[0-9]+|[1-9][0-9]{0,2}(?:([.,\s])[0-9]{3})(?:\1[0-9]{3})*", re.ASCII)


def outside_province(province_name: str) -> InputError:
    return InputError("venue.region_outside",
                      N_("Địa bàn của điểm đến phải ở trong %(province)s."), province=province_name)


def parse_count(raw: str) -> int | None:
    """A whole number typed as plain digits or grouped in threes; None for anything else."""
    text = raw.strip()
    return int(re.sub(r"[^0-9]", "", text)) if _COUNT.fullmatch(text) else None


error = error_maker(_ERRORS)


class VenueNotFound(LookupError):
    """No such venue, or not one this officer runs."""


@dataclass(frozen=True)
class VenueInput:
    name: str
    kind: str
    region_code: str | None = None
    address: str = ""
    owner_org: str = ""
    daily_visitors: int | None = None


@dataclass(frozen=True)
class VenueView:
    id: int
    name: str
    kind: str
    region_code: str | None
    region_path: str
    region_name: str
    address: str
    owner_org: str
    daily_visitors: int | None
    active: bool
    code_reference: str

    @property
    def kind_label(self) -> str:
        """Marked with ``N_``: translate where shown."""
        return KIND_LABELS.get(self.kind, KIND_LABELS["other"])

    def code(self, secret_key: bytes) -> str:
        return tokens.make_token(tokens.TokenKind.VENUE, self.code_reference, secret_key)

    def poster_url(self, settings) -> str:
        """What the venue's poster QR holds."""
        return tokens.venue_url(settings.base_url, self.code(settings.secret_key))


def _text(raw: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(raw or "")).split())


def parse_venue(form: Mapping[str, Any]) -> VenueInput:
    """The venue form's values, or FormErrors naming every bad field."""
    errors: dict[str, InputError] = {}
    name, kind = _text(form.get("name")), _text(form.get("kind"))
    address, owner = _text(form.get("address")), _text(form.get("owner_org"))
    if not name:
        errors["name"] = error("venue.name_required")
    elif not 2 <= len(name) <= 150:
        errors["name"] = error("venue.name_length")
    if kind not in KIND_LABELS:
        errors["kind"] = error("venue.kind_invalid")
    if len(address) > 200:
        errors["address"] = error("venue.address_length")
    if len(owner) > 150:
        errors["owner_org"] = error("venue.owner_length")
    visitors_raw = _text(form.get("daily_visitors"))
    visitors = parse_count(visitors_raw) if visitors_raw else None
    if visitors_raw and (visitors is None or not 1 <= visitors <= MAX_DAILY_VISITORS):
        errors["daily_visitors"] = error("venue.visitors_invalid")
        visitors = None
    if errors:
        raise FormErrors(errors)
    return VenueInput(name, kind, _text(form.get("region")) or None, address, owner, visitors)


async def _area_and_name(name: str, region_code: str | None, settings,
                         venue_id: int | None) -> tuple[dict[str, InputError], int | None, str]:
    """The problems of the area (unknown, outside ``settings.province_code`` when settings are
    given) and of the name (another venue of the area has it), and the area's id and path."""
    errors: dict[str, InputError] = {}
    region_id, path = None, ""
    if region_code:
        row = await Region.select(Region.id, Region.path).where(
            Region.code == region_code).first()
        if row is None:
            return {"region": error("venue.region_unknown")}, None, ""
        region_id, path = row["id"], row["path"]
        if settings is not None and f"/{settings.province_code}/" not in path:
            errors["region"] = outside_province(settings.province_name)
    if name:
        same_area = Venue.region.is_null() if region_id is None else Venue.region == region_id
        if name_taken(name, await Venue.select(Venue.id, Venue.name).where(same_area),
                      other_than=venue_id):
            errors["name"] = error("venue.name_taken")
    return errors, region_id, path


async def _checked(data: VenueInput, settings, venue_id: int | None = None
                   ) -> tuple[int | None, str]:
    """The area's id and path, or FormErrors. Run inside the write transaction that stores
    the venue, after ``db.lock(NAMES_LOCK)``, so the name check holds against a concurrent
    registration or edit."""
    errors, region_id, path = await _area_and_name(data.name, data.region_code, settings,
                                                   venue_id)
    if errors:
        raise FormErrors(errors)
    return region_id, path


async def parse_checked(form: Mapping[str, Any], settings, *, venue_id: int | None = None
                        ) -> VenueInput:
    """:func:`parse_venue` and the area and name checks together: FormErrors naming every bad
    field at once (``create`` and ``update`` check area and name again as they store)."""
    try:
        data, errors = parse_venue(form), {}
    except FormErrors as caught:
        data, errors = None, caught.errors
    name = "" if "name" in errors else _text(form.get("name"))
    stored, _id, _path = await _area_and_name(name, _text(form.get("region")) or None,
                                              settings, venue_id)
    errors = {**stored, **errors}
    if errors or data is None:
        raise FormErrors(errors)
    return data


_COLUMNS = (Venue.id, Venue.name, Venue.kind, Venue.region_path, Venue.address, Venue.owner_org,
            Venue.daily_visitors, Venue.active, Venue.code_reference,
            Venue.region.code.as_alias("region_code"), Venue.region.name.as_alias("region_name"))


_BY_REFERENCE = """
SELECT v.id, v.name, v.kind, v.region_path, v.address, v.owner_org, v.daily_visitors,
       v.active, v.code_reference, r.code AS region_code, r.name AS region_name
FROM venue v LEFT JOIN region r ON r.id = v.region
WHERE v.code_reference = {} AND v.active = {}"""


def _view(row: Mapping[str, Any]) -> VenueView:
    return VenueView(
        id=row["id"], name=row["name"], kind=row["kind"], region_code=row["region_code"],
        region_path=row["region_path"] or "", region_name=row["region_name"] or "",
        address=row["address"], owner_org=row["owner_org"],
        daily_visitors=row["daily_visitors"], active=bool(row["active"]),
        code_reference=row["code_reference"],
    )


async def create(data: VenueInput, settings, *, created_by: int | None = None,
                 now: datetime | None = None) -> VenueView:
    """A new, active venue; FormErrors for an unknown area, one outside the province or a
    name the area already has."""
    _code, reference = tokens.issue_venue_code(settings.secret_key)
    async with db.write_transaction():
        await db.lock(NAMES_LOCK)
        region_id, path = await _checked(data, settings)
        rows = await Venue.insert(Venue(
            name=data.name, kind=data.kind, region=region_id, region_path=path,
            address=data.address, owner_org=data.owner_org, daily_visitors=data.daily_visitors,
            active=True, code_reference=reference, created_at=now or clock.now(),
            created_by=created_by,
        )).returning(Venue.id)
    venue_id = rows[0]["id"]
    await audit.record("venue.create", actor_kind="officer" if created_by else "system",
                       actor_id=created_by, detail={"venue": venue_id})
    return await _read_back(venue_id)


async def update(venue_id: int, data: VenueInput, *, by: int | None = None,
                 settings=None) -> VenueView:
    """Store the edited venue; FormErrors as for :func:`create` (the province is checked
    when ``settings`` are given)."""
    async with db.write_transaction():
        await db.lock(NAMES_LOCK)
        region_id, path = await _checked(data, settings, venue_id)
        updated = await Venue.update({
            Venue.name: data.name, Venue.kind: data.kind, Venue.region: region_id,
            Venue.region_path: path, Venue.address: data.address,
            Venue.owner_org: data.owner_org, Venue.daily_visitors: data.daily_visitors,
        }).where(Venue.id == venue_id).returning(Venue.id)
    if not updated:
        raise VenueNotFound(venue_id)
    await audit.record("venue.update", actor_kind="officer", actor_id=by,
                       detail={"venue": venue_id})
    forget_codes()
    return await _read_back(venue_id)


async def set_active(venue_id: int, active: bool, *, by: int | None = None) -> VenueView:
    await Venue.update({Venue.active: active}).where(Venue.id == venue_id)
    forget_codes()
    await audit.record("venue.enable" if active else "venue.disable", actor_kind="officer",
                       actor_id=by, detail={"venue": venue_id})
    view = await get(venue_id)
    if view is None:
        raise VenueNotFound(venue_id)
    return view


async def reissue_code(venue_id: int, settings, *, by: int | None = None) -> VenueView:
    """A new poster code: every poster printed before stops working."""
    _code, reference = tokens.issue_venue_code(settings.secret_key)
    updated = await Venue.update({Venue.code_reference: reference}).where(
        Venue.id == venue_id).returning(Venue.id)
    if not updated:
        raise VenueNotFound(venue_id)
    await audit.record("venue.reissue_code", actor_kind="officer", actor_id=by,
                       detail={"venue": venue_id})
    forget_codes()
    return await _read_back(venue_id)


async def get(venue_id: int) -> VenueView | None:
    row = await Venue.select(*_COLUMNS).where(Venue.id == venue_id).first()
    return _view(row) if row else None


async def _read_back(venue_id: int) -> VenueView:
    """The venue just written, as :func:`get` reads it."""
    view = await get(venue_id)
    assert view is not None  # written by the caller a moment ago
    return view


# Every check-in reads its venue: a genuine code's venue is kept in process for 5 s. An
# edit, a pause or a new code in this process forgets it at once; another process within 5 s.
_by_code = Kept(seconds=5.0, max_items=10_000)


def forget_codes() -> None:
    _by_code.forget()


async def by_code(code: str, settings) -> VenueView | None:
    """The active venue of a poster code; None for a bad, forged, retired or inactive code."""
    if (kept := _by_code.get(code)) is not MISSING:
        return kept
    try:
        verified = tokens.verify(code, settings.secret_key)
    except tokens.TokenError:
        return None  # never kept: anyone may send any text
    if verified.kind is not tokens.TokenKind.VENUE:
        return None
    rows = await db.fetch(_BY_REFERENCE, verified.reference, True)
    venue = _view(rows[0]) if rows else None
    _by_code.put(code, venue)
    return venue


async def list_venues(*, officer_id: int | None = None, include_inactive: bool = True
                      ) -> list[VenueView]:
    """All venues by name, or only those ``officer_id`` runs (venue staff)."""
    query = Venue.select(*_COLUMNS)
    if officer_id is not None:
        ids = [r["venue"] for r in await OfficerVenue.select(OfficerVenue.venue).where(
            OfficerVenue.officer == officer_id)]
        if not ids:
            return []
        query = query.where(Venue.id.is_in(ids))
    if not include_inactive:
        query = query.where(Venue.active == True)  # noqa: E712
    views = [_view(row) for row in await query]
    return sorted(views, key=lambda v: (not v.active, _natural(v.name), v.id))


def _natural(name: str) -> list:
    """Sort key: without diacritics, numbers by value ("Chợ 5" before "Chợ 10")."""
    parts = re.split(r"(\d+)", fold_diacritics(name))
    return [int(part) if i % 2 else part for i, part in enumerate(parts)]


async def staff_venue_ids(officer_id: int) -> set[int]:
    return {r["venue"] for r in await OfficerVenue.select(OfficerVenue.venue).where(
        OfficerVenue.officer == officer_id)}


async def set_staff(venue_id: int, officer_ids: set[int], *, by: int | None = None) -> None:
    """Exactly these officers run the venue."""
    current = {r["officer"] for r in await OfficerVenue.select(OfficerVenue.officer).where(
        OfficerVenue.venue == venue_id)}
    removed, added = current - officer_ids, officer_ids - current
    if removed:
        await OfficerVenue.delete().where(
            (OfficerVenue.venue == venue_id) & OfficerVenue.officer.is_in(sorted(removed)))
    if added:
        await OfficerVenue.insert(*[OfficerVenue(officer=o, venue=venue_id)
                                    for o in sorted(added)])
    if removed or added:
        await audit.record("venue.staff", actor_kind="officer", actor_id=by,
                           detail={"venue": venue_id, "added": sorted(added),
                                   "removed": sorted(removed)})


async def staff_by_venue(venue_ids: list[int] | set[int]) -> dict[int, list[tuple[int, str]]]:
    """The officers (id, name) who run each venue, by name — for the venue list."""
    ids = sorted(venue_ids)
    if not ids:
        return {}
    rows = await OfficerVenue.select(
        OfficerVenue.venue, OfficerVenue.officer, OfficerVenue.officer.name.as_alias("name")
    ).where(OfficerVenue.venue.is_in(ids))
    result: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        result.setdefault(row["venue"], []).append((row["officer"], row["name"]))
    for staff in result.values():
        staff.sort(key=lambda item: (item[1].casefold(), item[0]))
    return result
