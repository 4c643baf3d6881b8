"""Venues and check-ins: the form's rules, poster codes, the 30-minute repeat window,
check-out, the default stay, and the last check-in for the officer's result."""

import asyncio
import time
import uuid
from datetime import timedelta

import pytest

from khaibao.core import db
from khaibao.core.errors import FormErrors
from khaibao.qr import tokens
from khaibao.venues import checkins, venues
from tests.unit import citizen_factories as make


def venue_form(**overrides):
    # a name of its own: an area has one venue of a name
    return {"name": f"Chợ Đông Ba {uuid.uuid4().hex[:6]}", "kind": "market", "region": "VN-46",
            "address": "2 Trần Hưng Đạo", "owner_org": "Ban quản lý chợ",
            "daily_visitors": "5.000", **overrides}


async def new_venue(settings, **overrides):
    return await venues.create(venues.parse_venue(venue_form(**overrides)), settings)


def test_the_form_names_every_bad_field():
    with pytest.raises(FormErrors) as caught:
        venues.parse_venue(venue_form(name=" ", kind="casino", daily_visitors="nhiều",
                                      address="x" * 201))
    assert set(caught.value.errors) == {"name", "kind", "daily_visitors", "address"}
    assert caught.value.errors["name"].message("vi") == "Vui lòng nhập tên điểm đến."
    assert venues.parse_venue(venue_form()).daily_visitors == 5000


async def test_an_unknown_region_is_refused(database, settings):
    with pytest.raises(FormErrors) as caught:
        await new_venue(settings, region="VN-99-00000")
    assert set(caught.value.errors) == {"region"}


async def test_poster_code_finds_the_venue_and_nothing_else(database, settings):
    venue = await new_venue(settings)
    code = venue.code(settings.secret_key)
    assert venue.poster_url(settings) == f"{settings.base_url}/v/{code}"
    assert (await venues.by_code(code, settings)).id == venue.id
    altered = code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:]
    assert await venues.by_code(altered, settings) is None
    person_token, _ = tokens.issue_person_token(settings.secret_key)
    assert await venues.by_code(person_token, settings) is None  # wrong kind
    renewed = await venues.reissue_code(venue.id, settings)
    assert await venues.by_code(code, settings) is None  # old posters stop working
    assert (await venues.by_code(renewed.code(settings.secret_key), settings)).id == venue.id
    await venues.set_active(venue.id, False)
    assert await venues.by_code(renewed.code(settings.secret_key), settings) is None


async def test_a_venue_kept_in_process_follows_edits_here_and_elsewhere(database, settings,
                                                                      monkeypatch):
    venue = await new_venue(settings)
    code = venue.code(settings.secret_key)
    assert (await venues.by_code(code, settings)).name == venue.name
    edited = venues.parse_venue({"name": "Chợ Đông Ba mới", "kind": "market"})
    await venues.update(venue.id, edited)  # here: forgotten at once
    assert (await venues.by_code(code, settings)).name == "Chợ Đông Ba mới"
    # another process disables it: this one still has it for at most its 5 seconds
    await db.execute("UPDATE venue SET active = {} WHERE id = {}", False, venue.id)
    assert await venues.by_code(code, settings) is not None
    later = time.monotonic() + venues._by_code.seconds + 0.1
    monkeypatch.setattr(venues._by_code, "clock", lambda: later)
    assert await venues.by_code(code, settings) is None


async def test_staff_run_only_their_venues(database, settings):
    from khaibao.officers import officers

    staff = await officers.create("Nhân viên Chợ", "venue")
    market, school = await new_venue(settings), await new_venue(settings, name="Trường A",
                                                                   kind="school")
    await venues.set_staff(market.id, {staff.id})
    assert [v.id for v in await venues.list_venues(officer_id=staff.id)] == [market.id]
    assert await venues.staff_venue_ids(staff.id) == {market.id}
    await venues.set_staff(market.id, set())
    assert await venues.list_venues(officer_id=staff.id) == []
    assert school.id not in await venues.staff_venue_ids(staff.id)


async def test_check_in_twice_within_30_minutes_adds_one_stay(database, settings):
    venue = await new_venue(settings)
    account = await make.account()
    owner = await make.add_person(account, settings, is_owner=True)
    child = await make.add_person(account, settings, make.child_fields())
    start = make.now()
    first = await checkins.check_in(venue.id, [owner, child], settings, account_id=account,
                                    now=start)
    assert [c.person_id for c in first] == [owner, child] and not any(c.repeated for c in first)
    assert first[0].ends_at == start + timedelta(minutes=settings.checkin_stay_minutes)
    again = await checkins.check_in(venue.id, [owner], settings, account_id=account,
                                    now=start + timedelta(minutes=29))
    assert again[0].repeated and again[0].id == first[0].id
    later = await checkins.check_in(venue.id, [owner], settings, account_id=account,
                                    now=start + timedelta(minutes=31))
    assert not later[0].repeated and later[0].id != first[0].id
    assert await checkins.occupancy(venue.id, now=start + timedelta(minutes=40)) == 3


async def test_a_double_tap_checks_in_once(database, settings):
    """Ten check-ins of the same person at once (a double tap, a resent request): one stay,
    nine answered with it. SQLite: one statement; PostgreSQL: the person locked first."""
    venue = await new_venue(settings)
    account = await make.account()
    owner = await make.add_person(account, settings, is_owner=True)
    results = await asyncio.gather(*(
        checkins.check_in(venue.id, [owner], settings, account_id=account) for _ in range(10)))
    assert sorted(r[0].repeated for r in results) == [False] + [True] * 9
    assert len({r[0].id for r in results}) == 1
    assert len(await checkins.open_stays(venue.id, [owner])) == 1


async def test_check_out_ends_the_stay_and_the_last_check_in_shows_it(database, settings):
    venue = await new_venue(settings, name="Nhà hàng Sông Hương", kind="restaurant")
    account = await make.account()
    owner = await make.add_person(account, settings, is_owner=True)
    start = make.now()
    await checkins.check_in(venue.id, [owner], settings, account_id=account, now=start)
    assert len(await checkins.open_stays(venue.id, [owner], now=start)) == 1
    assert await checkins.check_out(venue.id, [owner], now=start + timedelta(minutes=50)) == 1
    assert await checkins.open_stays(venue.id, [owner], now=start + timedelta(minutes=51)) == []
    assert await checkins.check_out(venue.id, [owner]) == 0  # nothing left to end
    last = await checkins.last_checkin(owner)
    assert last.venue_name == "Nhà hàng Sông Hương"
    assert last.checked_out_at == last.ends_at == start + timedelta(minutes=50)


async def test_a_stay_without_check_out_ends_after_the_default_stay(database, settings):
    venue = await new_venue(settings)
    account = await make.account()
    owner = await make.add_person(account, settings, is_owner=True)
    start = make.now() - timedelta(hours=5)
    await checkins.check_in(venue.id, [owner], settings, account_id=account, now=start)
    assert await checkins.open_stays(venue.id, [owner]) == []
    assert await checkins.occupancy(venue.id) == 0


def test_venues_sort_without_diacritics_and_numbers_by_value():
    names = ["Bệnh viện 10", "Bệnh viện 5", "Ấp Bắc", "An Cựu", "Chợ"]
    assert sorted(names, key=venues._natural) == [
        "An Cựu", "Ấp Bắc", "Bệnh viện 5", "Bệnh viện 10", "Chợ"]
