"""Demo data for ``khaibao demo``: added once, safe to run again.

Fictional citizens of Huế with their families and a few days of health declarations, so
every citizen page shows something real. Demo phones receive their OTP in the console.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from khaibao import arrivals, declarations, people, regions
from khaibao.settings import Settings
from khaibao.tables import Account

# (phone, [(name, id type, id number, birth year, sex, ward code)], days ago declared, symptoms)
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


async def _demo_arrival(account_id: int, person_ids: list[int], settings: Settings,
                        now: datetime) -> None:
    """A trip from Hà Nội into Huế by coach, through the Phong Điền checkpoint."""
    origin = (await regions.search("Hoàn Kiếm", within=regions.province_code(1),
                                   kinds=("ward",), limit=1))[0]
    checkpoint = next(c.id for c in await arrivals.checkpoints() if "Phong Điền" in c.name)
    trip = arrivals.TripData(
        origin_country="VN", origin_region_code=origin.code, departure_date=(
            now - timedelta(days=1)).date(), arrival_at=now - timedelta(hours=2),
        transport="bus", vehicle_number="29B-12345", checkpoint_id=checkpoint,
        destination_region_code=await _ward("Thủy Xuân"), purpose="Về nhà",
    )
    await arrivals.submit(account_id, person_ids=person_ids, new_persons=[], trip=trip,
                          client_ref="demo-arrival-1", settings=settings,
                          province_code=settings.province_code,
                          province_name=settings.province_name)


async def seed(settings: Settings) -> str:
    """Add the demo data that is not there yet and say what there is to try."""
    await regions.ensure_vietnam_loaded()
    if not await arrivals.checkpoints(active_only=False):
        for name, place in DEMO_CHECKPOINTS:
            await arrivals.add_checkpoint(name, region_code=regions.province_code(46),
                                          place=place)
    added = 0
    now = datetime.now(UTC)
    for phone, members, days_ago, symptoms in DEMO_FAMILIES:
        e164 = "+84" + phone[1:]
        if await Account.exists().where(Account.phone == e164).run():
            continue
        account_id = await people.account_for_phone(e164)
        new_persons = []
        for name, id_type, number, year, sex, ward in members:
            new_persons.append(people.parse_person({
                "full_name": name, "id_type": id_type, "id_number": number,
                "birth_year": str(year), "sex": sex, "nationality": "VN",
                "region": await _ward(ward) or "", "address_detail": "", "bhyt": "",
            }))
        person_ids: list[int] = []
        for index, day in enumerate(sorted(days_ago, reverse=True)):
            health = declarations.HealthData(
                places_visited="Thành phố Huế", symptoms=symptoms if day == 0 else (),
                exposures=(), pledge=True,
            )
            submission = await declarations.submit(
                account_id, person_ids=person_ids, new_persons=new_persons if index == 0 else [],
                health=health, client_ref=f"demo-{phone}-{day}", settings=settings,
                now=now - timedelta(days=day, hours=index + 1),
            )
            person_ids = [p.id for p in submission.persons]
        added += 1
        if phone == DEMO_FAMILIES[-1][0]:
            await _demo_arrival(account_id, person_ids, settings, now)
    phones = ", ".join(DEMO_PHONES)
    return (f"Demo data: {added} new demo famil{'y' if added == 1 else 'ies'} "
            f"({len(DEMO_FAMILIES)} in all). Sign in at /kbyt with a demo phone ({phones}); "
            "the OTP is printed in this console.")
