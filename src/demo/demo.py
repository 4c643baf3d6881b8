"""Demo data for ``khaibao demo``: added once, safe to run again.

Fictional citizens of Huế with their families and a few days of health declarations, villages
and residential groups of four Huế wards, checkpoints, quarantine policies and arrivals, so
every page shows something real. Demo phones receive their OTP in the console; a demo admin
gets a fresh one-time enrollment link at every start (there is no default password).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.citizens import declarations, insurance, people, person_input
from khaibao.core import clock
from khaibao.core.settings import Settings
from khaibao.demo import demo_bulk
from khaibao.officers import enrollments, officers
from khaibao.policies import policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.tables import Account, Officer, Policy, Region, Venue
from khaibao.venues import venues

VILLAGES_CSV = Path(__file__).parent / "data" / "hue_villages.csv"
# A small health-insurance registry (fictional cards) so "Điền từ thẻ BHYT" finds someone:
# a grandmother and a grandfather not declared yet, and the first family's child.
BHYT_CSV = Path(__file__).parent / "data" / "demo_bhyt.csv"
DEMO_ADMIN = "Quản trị viên Demo"
DEMO_CHECKPOINT_OFFICER = "Cán bộ chốt Demo"
# Provinces the bulk arrivals come from (Hà Nội, Đà Nẵng, TP HCM, Quảng Trị, …).
DEMO_ORIGIN_PROVINCES = (1, 48, 79, 45, 44, 52, 31, 92)

# (phone, [(name, id type, id number, birth year, sex, ward name)], days ago declared,
#  symptoms declared in the family's latest declaration — recent enough to show red at a check)
DEMO_FAMILIES = [
    ("0905000001", [("Nguyễn Văn An", "cccd", "046090001234", 1990, "male", "Thuận An"),
                    ("Trần Thị Bình", "cccd", "046192004321", 1992, "female", "Thuận An"),
                    ("Nguyễn Minh Khang", "none", "000000000", 2019, "male", "Thuận An")],
     [0, 3, 7], ()),
    ("0935000002", [("Lê Thị Cúc", "cccd", "046185002468", 1985, "female", "Phú Xuân")],
     [1, 5], ("cough",)),
    ("0772000003", [("Phạm Đức Dũng", "cmnd", "191234567", 1978, "male", "Thủy Xuân")],
     [2], ()),
]
DEMO_PHONES = [family[0] for family in DEMO_FAMILIES]
DEMO_CHECKPOINTS = [("Chốt kiểm soát Phong Điền (QL1A)", "Quốc lộ 1A, phía Bắc"),
                    ("Ga Huế", "2 Bùi Thị Xuân"), ("Cảng hàng không Phú Bài", "Phú Bài")]


async def _ward(name: str) -> str | None:
    found = await regions.search(name, within=regions.province_code(46), kinds=("ward",),
                                 limit=1)
    return found[0].code if found else None


async def _region(name: str, within: str | None, kind: str) -> str:
    return (await regions.search(name, within=within, kinds=(kind,), limit=1))[0].code


# (family index, origin province number, origin ward, days ago, transport, vehicle,
#  checkpoint name part, destination ward, destination village)
DEMO_TRIPS = [
    (2, 1, "Hoàn Kiếm", 0, "bus", "29B-12345", "Phong Điền", "Thủy Xuân", "Tổ dân phố 5"),
    (1, 48, "Hải Châu", 2, "plane", "VN1545", "Phú Bài", "Phú Xuân", "Tổ dân phố 7"),
]
# (province number, ward or None, measure, days, legal reference)
DEMO_POLICIES = [
    (1, "Hoàn Kiếm", "centralised", 14, "Ví dụ: Công văn số 01/SYT-NVY (dữ liệu demo)"),
    (1, None, "self_monitor", 14, "Ví dụ: Công văn số 02/SYT-NVY (dữ liệu demo)"),
    (79, None, "home", 7, "Ví dụ: Công văn số 03/SYT-NVY (dữ liệu demo)"),
    (48, None, "test", None, "Ví dụ: Công văn số 04/SYT-NVY (dữ liệu demo)"),
]


async def _demo_policies(now: datetime) -> None:
    """Policies on where the demo travellers come from, in force since a week ago."""
    if await Policy.count():
        return
    for province, ward, measure, days, reference in DEMO_POLICIES:
        target = regions.province_code(province)
        if ward:
            target = await _region(ward, target, "ward")
        await policies.create(PolicyInput(
            target_region_code=target, measure=measure, days=days, custom_text="",
            effective_from=now - timedelta(days=7), effective_to=None,
            legal_reference=reference,
        ), created_by=None, now=now - timedelta(days=7))


async def _demo_arrival(account_id: int, person_ids: list[int], trip_spec: tuple,
                        settings: Settings, now: datetime) -> None:
    """A trip into a Huế village through a checkpoint."""
    _, province, ward, days_ago, transport, vehicle, checkpoint_name, to_ward, village = trip_spec
    origin = await _region(ward, regions.province_code(province), "ward")
    destination_ward = await _ward(to_ward)
    checkpoint = next(c.id for c in await arrivals.checkpoints() if checkpoint_name in c.name)
    arrival_at = now - timedelta(days=days_ago, hours=2)
    trip = TripData(
        origin_country="VN", origin_region_code=origin,
        departure_date=(arrival_at - timedelta(days=1)).date(), arrival_at=arrival_at,
        transport=transport, vehicle_number=vehicle, checkpoint_id=checkpoint,
        destination_region_code=await _region(village, destination_ward, "residential_group"),
        purpose="Về nhà",
    )
    await arrivals.submit(account_id, person_ids=person_ids, new_persons=[], trip=trip,
                          client_ref=f"demo-arrival-{vehicle}", settings=settings,
                          province_code=settings.province_code,
                          province_name=settings.province_name)


async def _demo_admin_link(settings: Settings) -> str:
    """The demo admin (created once) and a new one-time enrollment link for it."""
    row = await Officer.select(Officer.id).where(Officer.name == DEMO_ADMIN).first()
    officer_id = row["id"] if row else (await officers.create(DEMO_ADMIN, officers.ADMIN)).id
    return enrollments.enrollment_url(settings, await enrollments.issue_enrollment(officer_id))


async def _bulk(settings: Settings, now: datetime) -> str:
    """Thousands of declarations, arrivals, check-ins, scans and OTP sends over the last 30
    days (or the retention period if shorter), so every dashboard chart shows something
    (added once)."""
    if await demo_bulk.already_filled():
        return ""
    # 30 days, but never older than the retention period: the daily purge would delete it.
    days = max(1, min(30, settings.retention_days - 1))
    province = settings.province_code
    wards = await Region.select(Region.code).where(
        Region.path.like(f"%/{province}/%") & (Region.kind == "ward")).limit(8).run()
    origins = []
    for number in DEMO_ORIGIN_PROVINCES:
        code = regions.province_code(number)
        origins += [r["code"] for r in await Region.select(Region.code).where(
            Region.path.like(f"%/{code}/%") & (Region.kind == "ward")).limit(3).run()]
    row = await Officer.select(Officer.id).where(
        Officer.name == DEMO_CHECKPOINT_OFFICER).first().run()
    checkpoint_ids = [c.id for c in await arrivals.checkpoints(active_only=False)]
    officer_id = row["id"] if row else (await officers.create(
        DEMO_CHECKPOINT_OFFICER, officers.CHECKPOINT,
        checkpoint_id=checkpoint_ids[0] if checkpoint_ids else None)).id
    report = await demo_bulk.fill(ward_codes=[r["code"] for r in wards], origin_codes=origins,
                                  officer_id=officer_id, checkpoint_ids=checkpoint_ids, now=now,
                                  days=days)
    return (f"Dashboard data: {report.declarations} declarations, {report.arrivals} arrivals, "
            f"{report.checkins} check-ins at {report.venues} venues, {report.scans} checkpoint "
            f"scans, {report.otp_codes} OTP codes over {days} days.\n")


async def seed(settings: Settings) -> str:
    """Add the demo data that is not there yet and say what there is to try."""
    await regions.ensure_vietnam_loaded()
    await regions.import_villages_csv(VILLAGES_CSV)
    registry = await insurance.import_csv(BHYT_CSV, settings)
    if not registry.ok:
        raise RuntimeError(f"demo BHYT registry: {registry.errors}")
    now = clock.now()
    await _demo_policies(now)
    if not await arrivals.checkpoints(active_only=False):
        for name, place in DEMO_CHECKPOINTS:
            await arrivals.add_checkpoint(name, region_code=regions.province_code(46),
                                          place=place)
    added = 0
    trips = {spec[0]: spec for spec in DEMO_TRIPS}
    for family_index, (phone, members, days_ago, symptoms) in enumerate(DEMO_FAMILIES):
        e164 = "+84" + phone[1:]
        if await Account.exists().where(Account.phone == e164).run():
            continue
        account_id = await people.account_for_phone(e164)
        new_persons = []
        for name, id_type, number, year, sex, ward in members:
            new_persons.append(person_input.parse_person({
                "full_name": name, "id_type": id_type, "id_number": number,
                "birth_year": str(year), "sex": sex, "nationality": "VN",
                "region": await _ward(ward) or "", "address_detail": "", "bhyt": "",
            }))
        person_ids: list[int] = []
        latest = min(days_ago)
        for index, day in enumerate(sorted(days_ago, reverse=True)):
            health = declarations.HealthData(
                places_visited="Thành phố Huế", symptoms=symptoms if day == latest else (),
                exposures=(), pledge=True,
            )
            submission = await declarations.submit(
                account_id, person_ids=person_ids, new_persons=new_persons if index == 0 else [],
                health=health, client_ref=f"demo-{phone}-{day}", settings=settings,
                now=now - timedelta(days=day, hours=index + 1),
            )
            person_ids = [p.id for p in submission.persons]
        added += 1
        if family_index in trips:
            await _demo_arrival(account_id, person_ids[:1], trips[family_index], settings, now)
    bulk = await _bulk(settings, now)
    phones = ", ".join(DEMO_PHONES)
    link = await _demo_admin_link(settings)
    poster = await _demo_poster_url(settings)
    base = settings.base_url
    return "\n".join([
        f"{bulk}Demo data: {added} new demo famil{'y' if added == 1 else 'ies'} "
        f"({len(DEMO_FAMILIES)} in all).",
        "",
        f"  Citizens (Khai báo y tế):     {base}/kbyt",
        f"      demo phones {phones}; the OTP (Mã OTP) is printed in this console",
        f"      demo BHYT cards (Điền từ thẻ BHYT): {', '.join(demo_bhyt_cards())}",
        f"  A venue poster to check in:   {poster}" if poster else "",
        "  Officers: add the demo admin's passkey with this one-time link (24 h),",
        f"      then sign in at {base}/can-bo/dang-nhap",
        f"      {link}",
        "",
        f"Khai Báo: {base}",
    ])


def demo_bhyt_cards() -> list[str]:
    """The card numbers of the demo registry, to try "Điền từ thẻ BHYT"."""
    with BHYT_CSV.open(encoding="utf-8") as handle:
        return [row["bhyt"] for row in csv.DictReader(handle)]


async def _demo_poster_url(settings: Settings) -> str | None:
    """What the first demo venue's poster QR holds (scan it, or open it, to check in)."""
    row = await Venue.select(Venue.id).where(Venue.active.eq(True)).order_by(Venue.id).first()
    venue = await venues.get(row["id"]) if row else None
    return venue.poster_url(settings) if venue else None
