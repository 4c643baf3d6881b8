"""Test data for the citizen services: unique phones, valid random CCCD and BHYT numbers,
person forms and a small region tree. The test database is shared by the whole session, so
everything made here is unique."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from khaibao.citizens import people, person_input
from khaibao.core import db
from khaibao.tables import Region
from khaibao.vn.identity import PROVINCE_CODES

_random = random.SystemRandom()


def phone() -> str:
    return f"+849{_random.randrange(10**8):08d}"


def cccd(birth_year: int = 1990, sex: str = "male") -> str:
    province = _random.choice(sorted(PROVINCE_CODES))
    digit = 2 * (birth_year // 100 - 19) + (1 if sex == "female" else 0)
    return f"{province}{digit}{birth_year % 100:02d}{_random.randrange(10**6):06d}"


def social_insurance_number() -> str:
    return f"{_random.randrange(10**10):010d}"


def bhyt_number() -> str:
    return f"DN446{social_insurance_number()}"


def person_fields(**overrides: str) -> dict[str, str]:
    year = str(_random.randrange(1950, 2000))
    fields = {
        "full_name": "Nguyễn Thị Hoa",
        "id_type": "cccd",
        "id_number": cccd(int(year), "female"),
        "birth_year": year,
        "sex": "female",
        "nationality": "VN",
        "region": "",
        "address_detail": "12 Lê Lợi",
        "bhyt": "",
    }
    fields.update(overrides)
    return fields


def child_fields(name: str = "Trần Bé Na", year: str = "2019", **overrides: str):
    fields = {"full_name": name, "id_type": "none", "id_number": "000000000",
              "birth_year": year, "sex": "female", **overrides}
    return person_fields(**fields)


def now() -> datetime:
    return datetime.now(UTC)


async def account() -> int:
    return await people.account_for_phone(phone())


async def add_person(account_id: int, settings, fields: dict[str, str] | None = None, *,
                     is_owner: bool = False) -> int:
    data = person_input.parse_person(fields or person_fields())
    async with db.write_transaction():
        return await people.create_person(account_id, data, settings, is_owner=is_owner,
                                          channel="self" if is_owner else "relative", now=now())


@contextlib.asynccontextmanager
async def region_tree() -> AsyncIterator[dict[str, str]]:
    """country › province › ward with unique codes, deleted again afterwards (with the test's
    persons in it) so that other tests of the shared database see only their own tree."""
    tag = uuid.uuid4().hex[:8].upper()
    parent = None
    path = "/"
    codes = {}
    for kind, name, depth in (("country", "Việt Nam", 0), ("province", "Thành phố Huế", 1),
                              ("ward", "Phường Thuận An", 2)):
        code = f"T{tag}-{depth}"
        path += f"{code}/"
        rows = await Region.insert(Region(
            code=code, name=name, name_folded=name.lower(), kind=kind, parent=parent,
            path=path, depth=depth)).returning(Region.id).run()
        parent = rows[0]["id"]
        codes[kind] = code
    try:
        yield codes
    finally:
        await Region.delete().where(Region.code.is_in(list(codes.values())))


async def arrived_from(account_id: int, person_id: int, settings, origin_ward_code: str) -> None:
    """The person arrived in Huế two hours ago from ``origin_ward_code`` (left yesterday)."""
    from khaibao.arrivals import arrivals
    from khaibao.arrivals.trips import TripData
    from khaibao.core.clock import LOCAL_TIMEZONE
    from khaibao.regions import regions

    hue = [w for w in await regions.children("VN-46") if w.kind == "ward"][0]
    today = datetime.now(LOCAL_TIMEZONE)
    trip = TripData(departure_date=today.date() - timedelta(days=1),
                    arrival_at=today - timedelta(hours=2), transport="car",
                    destination_region_code=hue.code, origin_country="VN",
                    origin_region_code=origin_ward_code)
    await arrivals.submit(account_id, person_ids=[person_id], new_persons=[], trip=trip,
                          client_ref=uuid.uuid4().hex, settings=settings,
                          province_code="VN-46", province_name="Huế")
