"""Contact tracing: overlap at the boundaries (half-open stays, the default stay for open
ones), the person's own stays, the stated reason, and venue "point" policies deciding in and
out of the exposure window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.admin import tracing
from khaibao.citizens import people
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors, InputError
from khaibao.policies import decisions, policies, tracing_points
from khaibao.tables import AuditEntry, Region
from khaibao.venues import checkins, venues
from tests.unit import citizen_factories as make

REASON = "Ca bệnh xác nhận đã đến chợ, cần tìm người tiếp xúc"


def base_time() -> datetime:
    """Three days ago at a whole hour (inside the retention period, clear of "now")."""
    moment = datetime.now(UTC) - timedelta(days=3)
    return moment.replace(minute=0, second=0, microsecond=0)


async def ward_code(province: str) -> str:
    row = await Region.select(Region.code).where(  # not the region tests' first ward
        (Region.kind == "ward") & Region.path.like(f"/VN/{province}/%")).order_by(
        Region.code, ascending=False).first()
    return row["code"]


async def new_venue(settings, name="Chợ Đông Ba"):
    # venues lie in the deployment's province, one of a name per area
    data = venues.parse_venue({"name": f"{name} {uuid.uuid4().hex[:6]}", "kind": "market",
                               "region": await ward_code(settings.province_code)})
    return await venues.create(data, settings)


async def person(settings, name: str) -> int:
    account = await make.account()
    return await make.add_person(account, settings, make.person_fields(full_name=name),
                                 is_owner=True)


async def stay(settings, venue_id: int, person_id: int, start: datetime,
               end: datetime | None = None) -> None:
    await checkins.check_in(venue_id, [person_id], settings, now=start)
    if end is not None:
        await checkins.check_out(venue_id, [person_id], now=end)


async def stayed_under_point_policy(settings, person_id: int, venue_name: str, reference: str,
                                    *, measure: str = "home", days: str = "14"):
    """``person_id`` stayed 15 minutes into the exposure window (``base_time()``, one hour) at
    a new venue, under a point policy in force since five minutes ago. The caller deletes
    the returned policy (``made.policy.policy_key``)."""
    t = base_time()
    venue = await new_venue(settings, venue_name)
    await stay(settings, venue.id, person_id, t + timedelta(minutes=15))
    now = datetime.now(UTC)
    return await tracing_points.create_point_policy(
        venue.id, t, t + timedelta(hours=1),
        {"measure": measure, "days": days, "legal_reference": reference,
         "effective_from": (now - timedelta(minutes=5)).astimezone(LOCAL_TIMEZONE).strftime(
             "%Y-%m-%dT%H:%M")},
        created_by=None, now=now)


@pytest.fixture
async def scene(database, settings):
    """A market and a shop; at the market: An 10:00–11:00, Bình 11:00–12:00 (touches An),
    Cúc 09:30 without check-out (default stay → 11:30), Dũng 10:15–10:30 (inside An's);
    at the shop: Em 10:00–11:00 (same time, other venue)."""
    t = base_time()
    market, shop = await new_venue(settings), await new_venue(settings, "Cửa hàng Hoa")
    an_fields = make.person_fields(full_name="An")
    ids = {"An": await make.add_person(await make.account(), settings, an_fields, is_owner=True)}
    ids |= {name: await person(settings, name) for name in ("Bình", "Cúc", "Dũng", "Em")}
    await stay(settings, market.id, ids["An"], t, t + timedelta(hours=1))
    await stay(settings, market.id, ids["Bình"], t + timedelta(hours=1), t + timedelta(hours=2))
    await stay(settings, market.id, ids["Cúc"], t - timedelta(minutes=30))
    await stay(settings, market.id, ids["Dũng"], t + timedelta(minutes=15),
               t + timedelta(minutes=30))
    await stay(settings, shop.id, ids["Em"], t, t + timedelta(hours=1))
    return {"t": t, "market": market, "shop": shop, "ids": ids, "an_fields": an_fields}


def names(rows) -> dict[str, int]:
    return {row.person_name: row.overlap_minutes for row in rows}


async def test_a_venue_window_lists_overlapping_stays_only(scene):
    t, market = scene["t"], scene["market"]

    async def window(start, end):
        query = tracing.VenueQuery(market.id, start, end, REASON)
        return names((await tracing.trace_venue(query)).rows)

    # [11:00, 12:00): An ended at 11:00 exactly (touching) — not listed; Cúc's default stay
    # runs to 11:30.
    assert await window(t + timedelta(hours=1), t + timedelta(hours=2)) == {
        "Bình": 60, "Cúc": 30}
    # [09:00, 09:30): Cúc begins exactly at its end — nobody.
    assert await window(t - timedelta(hours=1), t - timedelta(minutes=30)) == {}
    # [10:20, 10:25): inside everyone's stay at the market, never the shop's.
    assert await window(t + timedelta(minutes=20), t + timedelta(minutes=25)) == {
        "An": 5, "Cúc": 5, "Dũng": 5}


async def test_a_person_sees_whom_they_met_and_never_themselves(scene, settings):
    t, ids = scene["t"], scene["ids"]
    an = (await people.persons_by_ids([ids["An"]], settings))[0]
    query = tracing.PersonQuery(an.id, (t - timedelta(days=1)).date(),
                                (t + timedelta(days=1)).date(), REASON)
    trace = await tracing.trace_person(an, query)
    assert len(trace.stays) == 1
    own = trace.stays[0]
    assert own.stay.person_id == an.id and not own.stay.auto_ended
    # Bình touches An's stay (no overlap); Em was at another venue; An is not their own contact.
    assert names(own.contacts) == {"Cúc": 60, "Dũng": 15}
    cuc = next(c for c in own.contacts if c.person_name == "Cúc")
    assert cuc.auto_ended and cuc.ends_at == t + timedelta(minutes=90)
    assert cuc.phone.startswith("09") and cuc.id_masked
    assert trace.rows == 2 and set(trace.person_ids) == {ids["Cúc"], ids["Dũng"]}


async def test_a_person_declared_from_two_phones_is_traced_from_both(scene, settings):
    """The same ID number on a second phone: the stays checked in from either phone are the
    person's own (never their own contacts), whichever phone's QR the tracing starts from."""
    t, ids, shop = scene["t"], scene["ids"], scene["shop"]
    (an,) = await people.persons_by_ids([ids["An"]], settings)
    second = await make.add_person(await make.account(), settings, scene["an_fields"],
                                   is_owner=True)
    assert an.id != second
    await stay(settings, shop.id, second, t + timedelta(minutes=90), t + timedelta(hours=2))
    query = tracing.PersonQuery(an.id, (t - timedelta(days=1)).date(),
                                (t + timedelta(days=1)).date(), REASON)
    for start in (an, (await people.persons_by_ids([second], settings))[0]):
        trace = await tracing.trace_person(start, query)
        assert [item.stay.person_id for item in trace.stays] == [ids["An"], second]
        assert all(c.person_id not in (ids["An"], second)
                   for item in trace.stays for c in item.contacts)


async def test_a_date_range_without_stays_gives_nothing(scene, settings):
    t, ids = scene["t"], scene["ids"]
    an = (await people.persons_by_ids([ids["An"]], settings))[0]
    later = (t + timedelta(days=2)).date()
    trace = await tracing.trace_person(an, tracing.PersonQuery(an.id, later, later, REASON))
    assert trace.stays == [] and trace.rows == 0


@pytest.mark.parametrize(("raw", "code"), [
    ("", "reason.required"), ("   ", "reason.required"), ("ngắn quá", "reason.length"),
    ("x" * 301, "reason.length"), ("Tìm người tiếp xúc với 046090001234", "reason.personal"),
    ("Gọi số 0905123456 để hỏi", "reason.personal"),
])
def test_the_reason_is_required_and_checked(raw, code):
    with pytest.raises(InputError) as caught:
        tracing.parse_reason(raw)
    assert caught.value.code == code


def test_the_venue_form_names_every_bad_field():
    with pytest.raises(FormErrors) as caught:
        tracing.parse_venue_query({"venue": "", "tu": "2026-11-24T10:00",
                                   "den": "2026-11-24T09:00", "ly_do": "ngắn"})
    assert set(caught.value.errors) == {"venue", "den", "ly_do"}
    assert caught.value.errors["den"].code == "window.order"
    query = tracing.parse_venue_query({"venue": "7", "tu": "2026-11-24T10:00",
                                       "den": "2026-11-24T12:00", "ly_do": REASON})
    # Vietnam time (UTC+7) in, UTC out
    assert query.start == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert query.end - query.start == timedelta(hours=2)


async def test_find_person_by_token_or_id_number(database, settings):
    account = await make.account()
    fields = make.person_fields(full_name="Lê Văn Tìm")
    person_id = await make.add_person(account, settings, fields, is_owner=True)
    view = (await people.persons_by_ids([person_id], settings))[0]
    assert (await tracing.find_person(view.token, settings)).id == person_id
    assert (await tracing.find_person(fields["id_number"], settings)).id == person_id
    for bad, code in (("", "person.required"), ("chưa có ai", "person.unknown")):
        with pytest.raises(InputError) as caught:
            await tracing.find_person(bad, settings)
        assert caught.value.code == code


async def test_queries_are_audited_without_raw_numbers(scene):
    t, market, ids = scene["t"], scene["market"], scene["ids"]
    query = tracing.VenueQuery(market.id, t, t + timedelta(hours=1), REASON)
    trace = await tracing.trace_venue(query)
    await tracing.record_query("trace.query", officer_id=1, place="Sở Y tế", query=query,
                               rows=len(trace.rows), listed=trace.person_ids)
    entry = await AuditEntry.select().where(AuditEntry.action == "trace.query").order_by(
        AuditEntry.id, ascending=False).first()
    assert f'"venue": {market.id}' in entry["detail"] and REASON in entry["detail"]
    assert '"rows": 3' in entry["detail"]
    listed = await AuditEntry.select(AuditEntry.person).where(
        (AuditEntry.action == "trace.listed") & AuditEntry.person.is_in(list(ids.values())))
    assert {row["person"] for row in listed} == {ids["An"], ids["Cúc"], ids["Dũng"]}


def test_window_codes_round_trip():
    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    code = tracing_points.window_code("VN-46-19753-V12", start, start + timedelta(hours=4))
    assert code.startswith("VN-46-19753-V12-") and len(code) <= 40
    assert tracing_points.window_of(code) == (start, start + timedelta(hours=4))
    assert tracing_points.window_of("VN-46-19753") is None


async def test_a_point_policy_reaches_who_was_there_in_the_window(database, settings):
    t = base_time()
    venue = await new_venue(settings, "Chợ Bến Ngự")
    inside, outside, touching, elsewhere = [await person(settings, n) for n in (
        "Trong Khung", "Ngoài Khung", "Sát Khung", "Nơi Khác")]
    other_venue = await new_venue(settings, "Chợ An Cựu")
    await stay(settings, venue.id, inside, t + timedelta(minutes=15))  # open, default stay
    await stay(settings, venue.id, outside, t + timedelta(hours=3), t + timedelta(hours=4))
    await stay(settings, venue.id, touching, t - timedelta(hours=1), t)  # ends at the start
    await stay(settings, other_venue.id, elsewhere, t + timedelta(minutes=15))
    now = datetime.now(UTC)
    made = await tracing_points.create_point_policy(
        venue.id, t, t + timedelta(hours=1),
        {"measure": "home", "days": "14",
         "effective_from": tracing.local_input(now - timedelta(minutes=5))},
        created_by=None, now=now)
    try:
        assert made.policy.target_code == made.region_code
        assert made.region_code.startswith(f"{venue.region_code}-V{venue.id}-")
        point = await Region.select().where(
            Region.code == f"{venue.region_code}-V{venue.id}").first()
        assert point["kind"] == "point" and point["name"] == venue.name
        assert point["path"] == f"{venue.region_path}{point['code']}/"

        async def decide(person_id):
            places = await tracing_points.places_from_checkins(person_id, now - timedelta(days=14))
            return await decisions.decide(places, at=now)

        got = await decide(inside)
        assert got.measure == "home" and got.days == 14
        assert "Chợ Bến Ngự" in got.matched_place.label
        for person_id in (outside, touching, elsewhere):
            assert (await decide(person_id)).measure == "none"
        # The verdict every screen shows sees it too: red, with the venue as the reason.
        from khaibao.verdicts import verdicts

        verdict = await verdicts.verdict_of(inside, settings, at=now)
        assert verdict.colour == "red"
        assert any("Cách ly tại nhà 14 ngày" in r for r in verdict.reasons)
        assert any("Chợ Bến Ngự" in r for r in verdict.reasons)
        assert (await verdicts.verdict_of(outside, settings, at=now)).colour != "red"
        # the same venue + window again reuses both regions
        again = await tracing_points.create_point_policy(
            venue.id, t, t + timedelta(hours=1), {"measure": "test"}, created_by=None, now=now)
        await policies.delete(again.policy.policy_key)
        assert again.region_code == made.region_code
        assert await Region.count().where(Region.code.like(f"{point['code']}%")) == 2
    finally:
        await policies.delete(made.policy.policy_key)


async def test_a_point_policy_needs_a_valid_measure(database, settings):
    venue = await new_venue(settings, "Quán Bún Bò")
    t = base_time()
    with pytest.raises(FormErrors) as caught:
        await tracing_points.create_point_policy(venue.id, t, t + timedelta(hours=1),
                                                 {"measure": "home"}, created_by=None)
    assert set(caught.value.errors) == {"days"}
