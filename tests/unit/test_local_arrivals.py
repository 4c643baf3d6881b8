"""Arrivals into an area for local officials: subtree scope, Vietnam-time date range, the
decision filter and the counts."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from citizen_factories import account, add_person, person_fields

from khaibao.arrivals import arrivals, local_arrivals
from khaibao.arrivals.local_arrivals import ArrivalFilter
from khaibao.arrivals.trips import TripData
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.policies import decisions, policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.verdicts import verdicts

HUE = "VN-46"
VN = LOCAL_TIMEZONE


@pytest.fixture
async def area(database):
    """Two wards of Huế, two wards elsewhere, and a unique day far from other tests' data."""
    hue = [w for w in await regions.children(HUE) if w.kind == "ward"]
    hanoi = [w for w in await regions.children("VN-01") if w.kind == "ward"]
    day = date(2032, 1, 1) + timedelta(days=random.randrange(3000))
    return {"a": hue[5], "b": hue[6], "hanoi": hanoi[3], "hanoi_b": hanoi[4], "day": day,
            "settings": database}


async def arrive(area, ward, at: datetime, *, origin=None, name="Lê Văn Tám",
                 detail="5 Lê Lợi") -> int:
    settings = area["settings"]
    account_id = await account()
    await add_person(account_id, settings, person_fields(full_name=name), is_owner=True)
    trip = TripData(departure_date=at.astimezone(VN).date() - timedelta(days=1), arrival_at=at,
                    transport="car", destination_region_code=ward.code,
                    origin_region_code=(origin or area["hanoi"]).code,
                    destination_detail=detail)
    owner = (await arrivals.people.persons_of(account_id, settings))[0]
    result = await arrivals.submit(account_id, person_ids=[owner.id], new_persons=[],
                                   trip=trip, client_ref=uuid.uuid4().hex, settings=settings,
                                   province_code=HUE, province_name="Huế")
    return result.arrival_ids[0]


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)


def query(region: regions.RegionView, start: date, end: date, decision: str = ""):
    return ArrivalFilter(region.code, region.path, start, end, decision)


def current_at(area, at: datetime) -> local_arrivals.CurrentOf:
    """The persons' verdicts at ``at``, as at the checkpoint (the route passes the moment of
    viewing)."""
    async def of(person_ids):
        return await verdicts.verdicts_of(person_ids, area["settings"], at=at,
                                          own_phone_only=False)
    return of


def noon_of(area) -> datetime:
    return at_local(area["day"], 12)


async def rows(q: ArrivalFilter, area) -> list[local_arrivals.LocalArrival]:
    return [a async for batch in local_arrivals.batches(q, current_at(area, noon_of(area)))
            for a in batch]


async def overview_of(q: ArrivalFilter, area, **limits) -> local_arrivals.Overview:
    return await local_arrivals.overview(q, current_at(area, noon_of(area)), **limits)


async def test_only_the_asked_subtree(area):
    day = area["day"]
    in_a = await arrive(area, area["a"], at_local(day, 10))
    in_b = await arrive(area, area["b"], at_local(day, 11))
    assert [r.id for r in await rows(query(area["a"], day, day), area)] == [in_a]
    assert [r.id for r in await rows(query(area["b"], day, day), area)] == [in_b]
    province = await regions.get(HUE)
    ids = {r.id for r in await rows(query(province, day, day), area)}
    assert {in_a, in_b} <= ids
    overview = await overview_of(query(area["a"], day, day), area)
    assert overview.total == 1 and [r.id for r in overview.rows] == [in_a]
    row = overview.rows[0]
    assert row.person_name == "Lê Văn Tám" and row.id_masked and "*" in row.id_masked
    assert row.destination_label.startswith(area["a"].name)
    assert row.origin_label.startswith(area["hanoi"].name)


async def test_dates_are_days_in_vietnam_time(area):
    day = area["day"]
    late = await arrive(area, area["a"], at_local(day, 23, 30))  # 16:30 UTC the same day
    early_next = await arrive(area, area["a"], at_local(day + timedelta(days=1), 0, 30))
    # 00:30 in Huế is still the previous day in UTC: it must count for the next day.
    assert at_local(day + timedelta(days=1), 0, 30).astimezone(UTC).date() == day
    assert [r.id for r in await rows(query(area["a"], day, day), area)] == [late]
    next_day = day + timedelta(days=1)
    assert [r.id for r in await rows(query(area["a"], next_day, next_day),
                                     area)] == [early_next]
    both = await rows(query(area["a"], day, next_day), area)
    assert [r.id for r in both] == [early_next, late]  # newest first


async def test_decision_filter_counts_and_the_decision_engine_agree(area, made):
    day = area["day"]
    start = at_local(day, 0) - timedelta(days=30)
    view = await policies.create(PolicyInput(area["hanoi"].code, "centralised", 14, "", start,
                                             None, "QĐ 1/UBND"), created_by=None)
    made.append(view.policy_key)
    quarantined = await arrive(area, area["a"], at_local(day, 9))
    free = await arrive(area, area["a"], at_local(day, 8), origin=area["hanoi_b"])
    overview = await overview_of(query(area["a"], day, day), area)
    assert overview.total == 2 and overview.matching == 2
    assert overview.counts["centralised"] == 1 and overview.counts["none"] == 1
    by_id = {r.id: r for r in overview.rows}
    assert by_id[quarantined].describe_now("vi") == "Cách ly tập trung 14 ngày"
    assert "QĐ 1/UBND" in " ".join(by_id[quarantined].current.reasons)
    assert not by_id[quarantined].changed  # the same policy then and now
    assert overview.colours["red"] == 1 and overview.colours["yellow"] == 1  # no declaration
    for row in overview.rows:  # batched reads give the same answers as the one-person ones
        expected = await decisions.decide_for_arrival(row.id, at=row.arrival_at)
        assert (row.at_arrival.measure, row.at_arrival.reasons) == (expected.measure,
                                                                     expected.reasons)
        now = await verdicts.verdict_of(row.person_id, area["settings"], at=noon_of(area))
        assert (row.current.colour, row.current.reasons) == (now.colour, now.reasons)
    for decision, expected in (("quarantine", [quarantined]), ("centralised", [quarantined]),
                               ("none", [free]), ("test", []), ("", [quarantined, free])):
        q = query(area["a"], day, day, decision)
        assert [r.id for r in await rows(q, area)] == expected, decision
        page = await overview_of(q, area)
        assert [r.id for r in page.rows] == expected and page.total == 2


async def test_batches_page_through_everything_and_the_page_caps(area):
    day = area["day"]
    ids = [await arrive(area, area["b"], at_local(day, 6) + timedelta(minutes=i))
           for i in range(5)]
    q = query(area["b"], day, day)
    now = current_at(area, noon_of(area))
    seen = [a.id async for batch in local_arrivals.batches(q, now, size=2) for a in batch]
    assert seen == list(reversed(ids))
    page = await overview_of(q, area, limit=3)
    assert len(page.rows) == 3 and page.truncated and page.matching == 5
    partial = await overview_of(q, area, limit=3, scan_limit=2)
    assert partial.partial or partial.scanned >= 2


def test_parse_range():
    today = date(2026, 11, 26)
    assert local_arrivals.parse_range("", None, "", today=today) == (
        date(2026, 11, 13), today, "")
    assert local_arrivals.parse_range("20/11/2026", "2026-11-21", "quarantine",
                                      today=today) == (date(2026, 11, 20),
                                                       date(2026, 11, 21), "quarantine")
    with pytest.raises(FormErrors) as caught:
        local_arrivals.parse_range("2026-11-22", "2026-11-21", "boom", today=today)
    assert {k: e.code for k, e in caught.value.errors.items()} == {
        "den": "date.order", "ket_qua": "decision.invalid"}
    with pytest.raises(FormErrors) as caught:
        local_arrivals.parse_range("2024-01-01", "2026-11-21", "", today=today)
    assert caught.value.errors["tu"].code == "date.range"
    with pytest.raises(FormErrors) as caught:
        local_arrivals.parse_range("31/02/2026", "", "", today=today)
    assert caught.value.errors["tu"].code == "date.invalid"


async def test_affected_sample_lists_who_passed_the_target(area):
    day = area["day"]
    arrival = await arrive(area, area["a"], at_local(day, 12), name="Trần Thị Mận")
    sample = await local_arrivals.affected_sample(area["hanoi"].path,
                                                  at=at_local(day, 13), limit=50)
    names = [s.person_name for s in sample]
    assert "Trần Thị Mận" in names
    assert arrival
    none = await local_arrivals.affected_sample(area["hanoi"].path,
                                                at=at_local(day, 13) + timedelta(days=20))
    assert "Trần Thị Mận" not in [s.person_name for s in none]
