"""Bulk demo data for the dashboards: thousands of declarations over 30 days, arrivals from
many provinces, venues with check-ins, checkpoint scans and OTP sends — inserted in batches
(one INSERT per ``BATCH`` rows), so ``khaibao demo`` stays fast.

Fictional persons only, without ID numbers (``id_type = "none"``: nothing to hash or
encrypt). Everything is tagged (client refs ``demo-bulk-…``, venue names ``(demo)``) so a
second run sees the tag and adds nothing.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from khaibao.admin import daily_counts
from khaibao.core import clock, db
from khaibao.core.clock import local_day
from khaibao.qr import tokens
from khaibao.tables import (
    ArrivalDeclaration,
    ArrivalPlace,
    CheckIn,
    CheckPass,
    HealthDeclaration,
    OtpCode,
    Person,
    Region,
    Venue,
)

BATCH = 500
TAG = "demo-bulk"
SYMPTOMS = ("fever", "cough", "breath", "throat", "taste", "tired")
TRANSPORTS = ("car", "motorbike", "bus", "train", "plane")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quang", "Hữu")
GIVEN = ("An", "Bình", "Cúc", "Dũng", "Hoa", "Khang", "Lan", "Mai", "Nam", "Phúc", "Quỳnh",
         "Sơn", "Tâm", "Uyên", "Việt", "Yến")
VENUES = (("Chợ Đông Ba", "market"), ("Bệnh viện Trung ương Huế", "hospital"),
          ("Trường THPT Quốc Học", "school"), ("Siêu thị Co.opmart Huế", "shop"),
          ("Nhà hàng Sông Hương", "restaurant"), ("UBND phường", "office"))


@dataclass
class Report:
    persons: int = 0
    declarations: int = 0
    arrivals: int = 0
    venues: int = 0
    checkins: int = 0
    scans: int = 0
    otp_codes: int = 0


async def _insert(table: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.transaction():
            await table.insert(*rows[start:start + BATCH]).run()


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _moment(rng: random.Random, now: datetime, days: int) -> datetime:
    """A moment in the last ``days`` days, busier in the day (7–21 h Vietnam time)."""
    day = rng.randrange(days)
    hour = min(23, max(0, int(rng.gauss(13, 4)))) - 7  # UTC hour of a local hour
    moment = (now - timedelta(days=day)).replace(minute=rng.randrange(60), second=0,
                                                 microsecond=0)
    moment = moment.replace(hour=0) + timedelta(hours=hour)
    return min(moment, now - timedelta(minutes=1))


async def already_filled() -> bool:
    return await HealthDeclaration.exists().where(
        HealthDeclaration.client_ref.like(f"{TAG}-%")).run()


async def _regions(codes: list[str]) -> list[dict]:
    return await Region.select(Region.id, Region.code, Region.path).where(
        Region.code.is_in(codes)).run() if codes else []


async def fill(*, ward_codes: list[str], origin_codes: list[str], officer_id: int | None,
               checkpoint_ids: list[int], persons: int = 1200, declarations: int = 4000,
               arrivals: int = 600, checkins: int = 2500, scans: int = 800, otp: int = 900,
               days: int = 30, now: datetime | None = None, seed: int = 46,
               tag: str = TAG) -> Report:
    """Add the bulk data (the caller checks :func:`already_filled` first)."""
    rng = random.Random(seed)
    now = now or clock.now()
    report = Report()
    wards = await _regions(ward_codes)
    origins = await _regions(origin_codes)
    if not wards:
        return report
    person_rows = []
    for i in range(persons):
        ward = rng.choice(wards)
        person_rows.append(Person(
            account=None, is_owner=False, full_name=_name(rng), id_type="none", id_hash=None,
            id_encrypted=None, bhyt_encrypted=None, id_masked="",
            birth_year=rng.randrange(1945, 2020), sex=rng.choice(("male", "female")),
            nationality="VN", region=ward["id"], qr_reference=tokens.new_reference(),
            qr_issued_at=now, channel="paper", created_at=now - timedelta(days=days),
            updated_at=now, no_id_key=hashlib.sha256(f"{tag}-{seed}-{i}".encode()).hexdigest()))
    await _insert(Person, person_rows)
    report.persons = persons
    people = await Person.select(Person.id, Person.region).where(
        Person.no_id_key.is_in([p.no_id_key for p in person_rows])).run()
    decl_rows = []
    for i in range(declarations):
        who = rng.choice(people)
        sick = rng.random() < 0.06
        decl_rows.append(HealthDeclaration(
            person=who["id"], client_ref=f"{tag}-d-{seed}-{i}",
            submitted_at=_moment(rng, now, days), channel="paper",
            places_visited="Thành phố Huế",
            symptoms=",".join(rng.sample(SYMPTOMS, rng.randint(1, 2))) if sick else "",
            has_symptoms=sick, region=who["region"], officer_id=None))
    await _insert(HealthDeclaration, decl_rows)
    report.declarations = declarations
    if origins:
        arrival_rows, origin_of = [], []
        for i in range(arrivals):
            who, ward, origin = rng.choice(people), rng.choice(wards), rng.choice(origins)
            at = _moment(rng, now, days)
            arrival_rows.append(ArrivalDeclaration(
                person=who["id"], client_ref=f"{tag}-a-{seed}-{i}", submitted_at=at,
                channel="paper", origin_country="VN", origin_region=origin["id"],
                departure_date=(at - timedelta(days=1)).date(), arrival_at=at,
                transport=rng.choice(TRANSPORTS), destination_region=ward["id"],
                destination_path=ward["path"], purpose="Về nhà",
                checkpoint=rng.choice(checkpoint_ids) if checkpoint_ids else None,
                officer_id=None))
            origin_of.append(origin)
        await _insert(ArrivalDeclaration, arrival_rows)
        ids = {r["client_ref"]: r["id"] for r in await ArrivalDeclaration.select(
            ArrivalDeclaration.id, ArrivalDeclaration.client_ref).where(
            ArrivalDeclaration.client_ref.like(f"{tag}-a-{seed}-%")).run()}
        await _insert(ArrivalPlace, [
            ArrivalPlace(arrival=ids[row.client_ref], region=origin["id"], path=origin["path"],
                         is_origin=True) for row, origin in zip(arrival_rows, origin_of,
                                                                 strict=True)])
        report.arrivals = arrivals
    venue_rows = [Venue(name=f"{name} {i + 1} (demo)", kind=kind, region=ward["id"],
                        region_path=ward["path"], daily_visitors=rng.choice((None, 80, 150)),
                        code_reference=tokens.new_reference(), created_at=now - timedelta(
                            days=days)) for i, ((name, kind), ward) in enumerate(
                  (rng.choice(VENUES), rng.choice(wards)) for _ in range(12))]
    await _insert(Venue, venue_rows)
    venues = await Venue.select(Venue.id).where(Venue.code_reference.is_in(
        [v.code_reference for v in venue_rows])).run()
    report.venues = len(venues)
    weights = [1 / (k + 1) for k in range(len(venues))]
    checkin_rows = []
    for _ in range(checkins):
        at = _moment(rng, now, days)
        checkin_rows.append(CheckIn(
            person=rng.choice(people)["id"], venue=rng.choices(venues, weights)[0]["id"],
            checked_in_at=at, ends_at=at + timedelta(hours=1), by_kind="self"))
    await _insert(CheckIn, checkin_rows)
    report.checkins = checkins
    if officer_id is not None and checkpoint_ids:
        await _insert(CheckPass, [CheckPass(
            person=rng.choice(people)["id"], officer=officer_id,
            checkpoint=rng.choice(checkpoint_ids), at=_moment(rng, now, days),
            colour=rng.choices(("green", "yellow", "red"), (80, 15, 5))[0], reason="demo")
            for _ in range(scans)])
        report.scans = scans
    otp_rows = []
    for _ in range(otp):
        at = _moment(rng, now, days)
        otp_rows.append(OtpCode(
            phone=f"+8490{rng.randrange(10**7):07d}" if rng.random() > .05 else "+84905550000",
            purpose="sign_in", code_hash="0" * 64, created_at=at,
            expires_at=at + timedelta(minutes=5),
            state=rng.choices(("used", "voided", "burned"), (85, 10, 5))[0]))
    await _insert(OtpCode, otp_rows)
    report.otp_codes = otp
    # rows were dated in the past: the dashboard's counts of those days are stale now
    await daily_counts.forget_days(local_day(now - timedelta(days=i)) for i in range(days + 2))
    return report
