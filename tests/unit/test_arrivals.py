"""Arrivals: trip form parsing, all-or-nothing submissions for persons travelling together,
idempotency, the reading views and the officials' "arrivals into" queries."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from citizen_factories import account, add_person, person_fields

from khaibao.arrivals import arrivals, trips
from khaibao.arrivals.trips import TripData
from khaibao.citizens import person_input
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration, ArrivalPlace, AuditEntry, Person

HUE = "VN-46"
HUE_NAME = "Thành phố Huế"
TODAY = date(2026, 11, 20)
VN = LOCAL_TIMEZONE


def ref() -> str:
    return uuid.uuid4().hex


def form(**overrides) -> dict:
    fields = {
        "origin_country": "VN", "origin_region": "VN-01-00004", "origin_detail": "Số 5 Hàng Bè",
        "passed_regions": [], "departure_date": "2026-11-18", "arrival_at": "2026-11-19T21:30",
        "transport": "car", "vehicle_number": "75a-123.45", "checkpoint": "",
        "destination_region": "VN-46-19753", "destination_detail": "12 Lê Lợi",
        "purpose": "Về quê", "contact_phone": "",
    }
    fields.update(overrides)
    return fields


def errors_of(fields: dict) -> dict[str, str]:
    with pytest.raises(FormErrors) as caught:
        trips.parse_trip(fields, province_code=HUE, today=TODAY)
    return {key: error.code for key, error in caught.value.errors.items()}


@pytest.fixture
async def places(database):
    """Real regions: two wards of Huế, one ward of Hà Nội, and the two provinces."""
    hue_wards = [w for w in await regions.children(HUE) if w.kind == "ward"]
    hanoi_wards = [w for w in await regions.children("VN-01") if w.kind == "ward"]
    return {"hue_a": hue_wards[0].code, "hue_b": hue_wards[1].code,
            "hanoi": hanoi_wards[0].code, "hanoi_b": hanoi_wards[1].code}


def trip(places, *, arrival_at: datetime | None = None, **overrides) -> TripData:
    values = dict(
        departure_date=date(2026, 11, 18),
        arrival_at=arrival_at or datetime(2026, 11, 19, 21, 30, tzinfo=VN),
        transport="car", destination_region_code=places["hue_a"], origin_country="VN",
        origin_region_code=places["hanoi"], origin_detail="Số 5 Hàng Bè",
        passed_region_codes=(places["hanoi_b"], "VN-46"), vehicle_number="75A-123.45",
        destination_detail="12 Lê Lợi", purpose="Về quê",
    )
    values.update(overrides)
    return TripData(**values)


async def do_submit(account_id, settings, places, *, person_ids=(), new_persons=(),
                    client_ref=None, **trip_overrides):
    return await arrivals.submit(
        account_id, person_ids=list(person_ids), new_persons=list(new_persons),
        trip=trip(places, **trip_overrides), client_ref=client_ref or ref(), settings=settings,
        province_code=HUE, province_name=HUE_NAME)


# --- parse_trip ------------------------------------------------------------------------------


def test_parse_trip():
    data = trips.parse_trip(form(passed_regions=["VN-38", "VN-01-00004", "VN-38"],
                                    contact_phone="0912 345 678", checkpoint="3"),
                               province_code=HUE, today=TODAY)
    assert data == TripData(
        departure_date=date(2026, 11, 18),
        arrival_at=datetime(2026, 11, 19, 21, 30, tzinfo=VN), transport="car",
        destination_region_code="VN-46-19753", origin_country="VN",
        origin_region_code="VN-01-00004", origin_detail="Số 5 Hàng Bè",
        passed_region_codes=("VN-38",), vehicle_number="75A-123.45", checkpoint_id=3,
        destination_detail="12 Lê Lợi", purpose="Về quê", contact_phone="+84912345678")
    assert data.arrival_at.astimezone(UTC) == datetime(2026, 11, 19, 14, 30, tzinfo=UTC)


def test_parse_trip_accepts_a_multidict():
    from multidict import MultiDict

    fields = MultiDict([(k, v) for k, v in form().items() if k != "passed_regions"])
    fields.add("passed_regions", "VN-38")
    fields.add("passed_regions", "VN-40")
    data = trips.parse_trip(fields, province_code=HUE, today=TODAY)
    assert data.passed_region_codes == ("VN-38", "VN-40")


def test_parse_trip_from_abroad_needs_no_region():
    data = trips.parse_trip(form(origin_country="jp", origin_region="", transport="plane",
                                    vehicle_number="vn 301"), province_code=HUE, today=TODAY)
    assert (data.origin_country, data.origin_region_code) == ("JP", None)
    assert data.vehicle_number == "VN 301"


def test_parse_trip_origin_rules():
    assert errors_of(form(origin_region="")) == {"origin_region": "origin_region.required"}
    assert errors_of(form(origin_region="VN 01")) == {"origin_region": "region.invalid"}
    assert errors_of(form(origin_country="XX")) == {"origin_country": "origin_country.invalid"}
    assert errors_of(form(origin_detail="x" * 201)) == {"origin_detail": "text.too_long"}


def test_parse_trip_passed_regions_rules():
    eleven = [f"VN-{n:02d}" for n in range(2, 13)]
    assert errors_of(form(passed_regions=eleven)) == {"passed_regions":
                                                      "passed_regions.too_many"}
    assert trips.parse_trip(form(passed_regions=eleven[:10]), province_code=HUE,
                               today=TODAY).passed_region_codes == tuple(eleven[:10])
    assert errors_of(form(passed_regions=["VN-38", "<b>"])) == {"passed_regions":
                                                                "region.invalid"}


@pytest.mark.parametrize(("departure", "code"), [
    ("", "departure_date.required"), ("20/11/2026", "departure_date.invalid"),
    ("2026-02-30", "departure_date.invalid"), ("2026-10-20", "departure_date.too_early"),
    ("2027-11-18", "departure_date.too_late"), ("2020-11-18", "departure_date.too_early"),
])
def test_parse_trip_departure_date_rules(departure, code):
    assert errors_of(form(departure_date=departure))["departure_date"] == code


def test_parse_trip_departure_date_boundaries():
    oldest = form(departure_date="2026-10-21", arrival_at="2026-10-21T08:00")
    assert trips.parse_trip(oldest, province_code=HUE, today=TODAY).departure_date == date(
        2026, 10, 21)
    same_day = form(departure_date="2026-11-19", arrival_at="2026-11-19T00:00")
    assert trips.parse_trip(same_day, province_code=HUE, today=TODAY)


@pytest.mark.parametrize(("arrival", "code"), [
    ("", "arrival_at.required"), ("19/11/2026 21:30", "arrival_at.invalid"),
    ("2026-11-19T25:00", "arrival_at.invalid"), ("2026-11-19T21:30+07:00", "arrival_at.invalid"),
    ("2026-11-17T23:59", "arrival_at.before_departure"),
    ("2026-10-20T12:00", "arrival_at.too_early"), ("2029-11-19T12:00", "arrival_at.too_late"),
    ("2027-01-20T00:00", "arrival_at.too_late"),
])
def test_parse_trip_arrival_rules(arrival, code):
    assert errors_of(form(arrival_at=arrival)) == {"arrival_at": code}


def test_parse_trip_arrival_boundaries():
    ahead = form(departure_date="2026-11-20", arrival_at="2027-01-19T23:59")
    assert trips.parse_trip(ahead, province_code=HUE, today=TODAY).arrival_at == datetime(
        2027, 1, 19, 23, 59, tzinfo=VN)
    past = form(departure_date="2026-10-21", arrival_at="2026-10-21T00:00")
    assert trips.parse_trip(past, province_code=HUE, today=TODAY)


def test_parse_trip_transport_rules():
    assert errors_of(form(transport="")) == {"transport": "transport.required"}
    assert errors_of(form(transport="rocket")) == {"transport": "transport.invalid"}
    for transport in ("car", "motorbike", "bus", "plane", "ship"):
        assert errors_of(form(transport=transport, vehicle_number=" ")) == {
            "vehicle_number": "vehicle_number.required"}
    for transport in ("train", "other"):
        data = trips.parse_trip(form(transport=transport, vehicle_number=""),
                                   province_code=HUE, today=TODAY)
        assert data.vehicle_number == ""
    for bad in ("A", "X" * 21, "75A_123", "75A#1"):
        assert errors_of(form(vehicle_number=bad)) == {"vehicle_number":
                                                       "vehicle_number.invalid"}
    data = trips.parse_trip(form(vehicle_number="  30g  499/12 "), province_code=HUE,
                               today=TODAY)
    assert data.vehicle_number == "30G 499/12"


def test_parse_trip_other_fields():
    assert errors_of(form(checkpoint="abc")) == {"checkpoint": "checkpoint.invalid"}
    assert errors_of(form(destination_region="")) == {"destination_region":
                                                      "destination.required"}
    assert errors_of(form(destination_detail="x" * 201, purpose="y" * 201)) == {
        "destination_detail": "text.too_long", "purpose": "text.too_long"}
    assert errors_of(form(contact_phone="12345"))["contact_phone"].startswith("phone.")


@pytest.mark.parametrize(("typed", "stored"), [
    ("0234 3822 123", "+842343822123"),  # a landline in Huế: no OTP is sent to it
    ("(024) 3825 1234", "+842438251234"),
    ("0912 345 678", "+84912345678"),
    ("+82 10 1234 5678", "+821012345678"),  # a foreign visitor's own phone
])
def test_the_contact_phone_is_any_phone_that_can_be_called(typed, stored):
    data = trips.parse_trip(form(contact_phone=typed), province_code=HUE, today=TODAY)
    assert data.contact_phone == stored


def test_a_wrong_contact_phone_says_nothing_of_otp():
    with pytest.raises(FormErrors) as caught:
        trips.parse_trip(form(contact_phone="0234 38"), province_code=HUE, today=TODAY)
    error = caught.value.errors["contact_phone"]
    assert error.code == "phone.invalid"
    assert "OTP" not in error.message("vi") and "cố định" in error.message("vi")


def test_parse_trip_reports_every_error_with_both_languages():
    with pytest.raises(FormErrors) as caught:
        trips.parse_trip(form(origin_region="", departure_date="x", arrival_at="",
                                 transport="car", vehicle_number="", destination_region=""),
                            province_code=HUE, today=TODAY)
    errors = caught.value.errors
    assert set(errors) == {"origin_region", "departure_date", "arrival_at", "vehicle_number",
                           "destination_region"}
    for error in errors.values():
        assert error.message("vi") != error.message("en")
        assert error.message("en").isascii() or "–" in error.message("en")
    assert errors["vehicle_number"].message("vi") == (
        "Hãy nhập biển số xe hoặc số hiệu chuyến bay, chuyến tàu.")


# --- submit ----------------------------------------------------------------------------------


async def test_submit_two_persons_creates_arrivals_and_places(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    new = person_input.parse_person(person_fields(full_name="Trần Văn Nam"))
    result = await do_submit(account_id, database, places, person_ids=[owner],
                             new_persons=[new])
    assert not result.replayed
    assert len(result.arrival_ids) == 2
    assert [p.id for p in result.persons][0] == owner
    assert result.persons[1].full_name == "Trần Văn Nam"
    rows = await ArrivalDeclaration.select().where(
        ArrivalDeclaration.id.is_in(result.arrival_ids)).order_by(ArrivalDeclaration.id)
    destination = await regions.get(places["hue_a"])
    assert [r["person"] for r in rows] == [p.id for p in result.persons]
    assert {r["destination_path"] for r in rows} == {destination.path}
    assert [r["channel"] for r in rows] == ["self", "relative"]
    assert rows[0]["arrival_at"] == datetime(2026, 11, 19, 14, 30, tzinfo=UTC)
    place_rows = await ArrivalPlace.select().where(
        ArrivalPlace.arrival == result.arrival_ids[0]).order_by(ArrivalPlace.id)
    origin, hanoi_b, hue = (await regions.get(places["hanoi"]), await regions.get(
        places["hanoi_b"]), await regions.get("VN-46"))
    assert [(r["path"], r["is_origin"]) for r in place_rows] == [
        (origin.path, True), (hanoi_b.path, False), (hue.path, False)]
    assert await ArrivalPlace.count().where(
        ArrivalPlace.arrival == result.arrival_ids[1]) == 3


async def test_submit_from_abroad_has_no_places(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    result = await do_submit(account_id, database, places, person_ids=[owner],
                             origin_country="JP", origin_region_code=None,
                             passed_region_codes=(), transport="plane", vehicle_number="VN301")
    assert await ArrivalPlace.count().where(ArrivalPlace.arrival == result.arrival_ids[0]) == 0
    view = await arrivals.last_arrival(owner)
    assert view.origin_label == "Số 5 Hàng Bè, Nhật Bản"
    assert view.origin_region_code is None


async def test_submit_is_all_or_nothing(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    taken = person_fields()
    await add_person(account_id, database, taken)  # already on this phone
    good = person_input.parse_person(person_fields(full_name="Lê Văn An"))
    bad = person_input.parse_person(taken)
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[owner],
                        new_persons=[good, bad])
    assert set(caught.value.errors) == {"new1.id_number"}
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.account == account_id) == 0
    assert await Person.count().where(Person.account == account_id) == 2


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"destination_region_code": "VN-01-00004"}, {"destination_region":
                                                  "destination.outside_province"}),
    ({"destination_region_code": "VN-46"}, {"destination_region": "region.too_coarse"}),
    ({"destination_region_code": "VN-46-99999"}, {"destination_region": "region.unknown"}),
    ({"origin_region_code": "VN-01"}, {"origin_region": "region.too_coarse"}),
    # Phường Thuận An, inside the province: "Khai báo y tế" is for people already there.
    ({"origin_region_code": "VN-46-19900"}, {"origin_region": "origin.inside_province"}),
    ({"origin_region_code": "VN-01-99999", "passed_region_codes": ("VN-77",)},
     {"origin_region": "region.unknown", "passed_regions": "region.unknown"}),
    ({"checkpoint_id": 10**9}, {"checkpoint": "checkpoint.unknown"}),
])
async def test_submit_checks_the_regions(database, places, overrides, expected):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    new = person_input.parse_person(person_fields())
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[owner], new_persons=[new],
                        **overrides)
    assert {k: e.code for k, e in caught.value.errors.items()} == expected
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.account == account_id) == 0
    assert await Person.count().where(Person.account == account_id) == 1


async def test_destination_outside_province_message(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[owner],
                        destination_region_code=places["hanoi"])
    error = caught.value.errors["destination_region"]
    assert error.message("vi") == "Nơi đến phải ở trong Thành phố Huế."
    assert error.message("en") == "The destination must be in Thành phố Huế."


async def test_submit_refuses_other_accounts_persons_and_empty(database, places):
    account_id = await account()
    stranger = await add_person(await account(), database, is_owner=True)
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[stranger])
    assert caught.value.errors["persons"].code == "arrival.person_unknown"
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places)
    assert caught.value.errors["persons"].code == "arrival.no_person"
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[stranger], client_ref="x")
    assert caught.value.errors["client_ref"].code == "arrival.client_ref_invalid"


async def test_double_submit_is_replayed(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    new = person_input.parse_person(person_fields(full_name="Phan Thị Lan"))
    client_ref = ref()
    first = await do_submit(account_id, database, places, person_ids=[owner],
                            new_persons=[new], client_ref=client_ref)
    again = await do_submit(account_id, database, places, person_ids=[owner],
                            new_persons=[new], client_ref=client_ref)
    assert again.replayed and again.arrival_ids == first.arrival_ids
    assert [p.id for p in again.persons] == [p.id for p in first.persons]
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.account == account_id) == 2
    found = await arrivals.submission(account_id, client_ref, database)
    assert found.arrival_ids == first.arrival_ids and found.replayed
    assert await arrivals.submission(await account(), client_ref, database) is None
    with pytest.raises(FormErrors) as caught:
        await do_submit(await account(), database, places, person_ids=[],
                        new_persons=[new], client_ref=client_ref)
    assert set(caught.value.errors) == {"client_ref"}


async def test_concurrent_double_submit(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    new = person_input.parse_person(person_fields(full_name="Võ Minh Tú"))
    client_ref = ref()
    results = await asyncio.gather(*(do_submit(
        account_id, database, places, person_ids=[owner], new_persons=[new],
        client_ref=client_ref) for _ in range(3)))
    assert len({tuple(r.arrival_ids) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.account == account_id) == 2
    assert await Person.count().where(Person.account == account_id) == 2


# --- reading ---------------------------------------------------------------------------------


async def test_arrivals_of_account_groups_by_person(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    relative = await add_person(account_id, database)
    checkpoint = await arrivals.add_checkpoint("Chốt Phú Bài", region_code=places["hue_b"])
    first = await do_submit(account_id, database, places, person_ids=[owner, relative],
                            arrival_at=datetime(2026, 11, 10, 8, 0, tzinfo=VN),
                            departure_date=date(2026, 11, 9))
    second = await do_submit(account_id, database, places, person_ids=[owner],
                             checkpoint_id=checkpoint, transport="train", vehicle_number="")
    grouped = await arrivals.arrivals_of_account(account_id)
    assert set(grouped) == {owner, relative}
    assert [v.id for v in grouped[owner]] == [second.arrival_ids[0], first.arrival_ids[0]]
    assert [v.id for v in grouped[relative]] == [first.arrival_ids[1]]
    view = grouped[owner][0]
    hanoi, hanoi_b, hue_a = (await regions.get(places["hanoi"]),
                             await regions.get(places["hanoi_b"]),
                             await regions.get(places["hue_a"]))
    assert view.person_name == "Nguyễn Thị Hoa"
    assert view.origin_label == f"Số 5 Hàng Bè, {hanoi.label}"
    assert view.origin_region_code == places["hanoi"]
    assert view.passed_labels == [hanoi_b.label, HUE_NAME]
    assert view.destination_label == hue_a.label
    assert (view.transport, view.transport_label) == ("train", "Tàu hỏa")
    assert view.checkpoint_name == "Chốt Phú Bài"
    assert view.departure_date == date(2026, 11, 18)
    assert view.arrival_at == datetime(2026, 11, 19, 14, 30, tzinfo=UTC)
    assert view.channel == "self" and grouped[relative][0].channel == "relative"
    assert (await arrivals.last_arrival(owner)).id == second.arrival_ids[0]
    assert await arrivals.last_arrival(await add_person(account_id, database)) is None
    assert await arrivals.arrivals_of_account(await account()) == {}


async def test_arrivals_into_ward_province_and_dates(database, places):
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    # a day of its own, so the other tests' arrivals never count
    day = date(2030, 1, 1) + timedelta(days=uuid.uuid4().int % 3000)
    start = datetime.combine(day, datetime.min.time(), VN)
    into_a = await do_submit(account_id, database, places, person_ids=[owner],
                             arrival_at=start, departure_date=day)  # 00:00 Vietnam time
    into_b = await do_submit(account_id, database, places, person_ids=[owner],
                             destination_region_code=places["hue_b"], departure_date=day,
                             arrival_at=start + timedelta(hours=23, minutes=59))
    late = await do_submit(account_id, database, places, person_ids=[owner],
                           departure_date=day, arrival_at=start + timedelta(days=1))
    a, b = into_a.arrival_ids[0], into_b.arrival_ids[0]

    async def ids(code, date_from, date_to):
        views = await arrivals.arrivals_into(code, date_from=date_from, date_to=date_to)
        count = await arrivals.count_into(code, date_from=date_from, date_to=date_to)
        assert count == len(views)
        return [v.id for v in views]

    assert await ids(places["hue_a"], day, day) == [a]
    assert await ids(places["hue_b"], day, day) == [b]
    assert await ids(HUE, day, day) == [b, a]  # newest first
    assert await ids(HUE, day, day + timedelta(days=1)) == [late.arrival_ids[0], b, a]
    assert await ids(HUE, day + timedelta(days=1), day + timedelta(days=1)) == [
        late.arrival_ids[0]]
    assert await ids(HUE, day - timedelta(days=1), day - timedelta(days=1)) == []
    assert await ids("VN-01", day, day) == []
    assert await ids("VN-46-00000", day, day) == []
    assert await ids(HUE, day, day - timedelta(days=1)) == []
    limited = await arrivals.arrivals_into(HUE, date_from=day, date_to=day, limit=1)
    assert [v.id for v in limited] == [b]


async def test_checkpoints(database, places):
    name = f"Chốt {uuid.uuid4().hex[:6]}"
    checkpoint_id = await arrivals.add_checkpoint(f"  {name} ", place="QL1A, km 791",
                                                  region_code=places["hue_a"])
    views = {c.id: c for c in await arrivals.checkpoints()}
    assert views[checkpoint_id] == arrivals.CheckpointView(checkpoint_id, name, "QL1A, km 791",
                                                           places["hue_a"])
    plain = await arrivals.add_checkpoint(name + " 2")
    assert {c.id: c for c in await arrivals.checkpoints()}[plain].region_code is None
    with pytest.raises(ValueError):
        await arrivals.add_checkpoint("  ")
    with pytest.raises(LookupError):
        await arrivals.add_checkpoint("Chốt X", region_code="VN-46-99999")
    from khaibao.tables import Checkpoint

    await Checkpoint.update({Checkpoint.active: False}).where(Checkpoint.id == plain)
    assert plain not in {c.id for c in await arrivals.checkpoints()}
    assert plain in {c.id for c in await arrivals.checkpoints(active_only=False)}
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    with pytest.raises(FormErrors) as caught:
        await do_submit(account_id, database, places, person_ids=[owner], checkpoint_id=plain)
    assert caught.value.errors["checkpoint"].code == "checkpoint.unknown"


# --- origin inside the province; a citizen's corrections and withdrawals ----------------------


def test_an_arrival_from_inside_the_province_says_what_to_do_instead():
    error = trips.origin_inside_province(HUE_NAME)
    assert error.code == "origin.inside_province"
    assert "Thành phố Huế" in error.message("vi") and "Khai báo y tế" in error.message("vi")
    assert "health declaration" in error.message("en").lower()


async def declared_one(database, places, **overrides) -> tuple[int, int, int]:
    """A phone that declared one arrival: (account, person, arrival)."""
    account_id = await account()
    owner = await add_person(account_id, database, is_owner=True)
    submission = await do_submit(account_id, database, places, person_ids=[owner],
                                 **overrides)
    return account_id, owner, submission.arrival_ids[0]


async def test_the_declarer_corrects_the_trip_and_only_the_corrected_one_is_seen(
        database, places):
    account_id, owner, arrival_id = await declared_one(database, places)
    stored = await arrivals.own_arrival(account_id, arrival_id)
    assert stored.values["origin_region"] == places["hanoi"]
    assert stored.values["arrival_at"] == "2026-11-19T21:30"
    assert stored.values["passed_regions"] == (places["hanoi_b"], "VN-46")
    await arrivals.correct(
        account_id, arrival_id,
        trip(places, destination_region_code=places["hue_b"], passed_region_codes=(),
             arrival_at=datetime(2026, 11, 20, 8, 0, tzinfo=VN), vehicle_number="VN1545",
             transport="plane"),
        province_code=HUE, province_name=HUE_NAME,
        now=datetime(2026, 11, 19, 12, 0, tzinfo=VN))
    views = (await arrivals.arrivals_of_account(account_id))[owner]
    assert len(views) == 1 and views[0].id == arrival_id
    assert views[0].vehicle_number == "VN1545" and views[0].passed_labels == []
    into_b = await arrivals.arrivals_into(places["hue_b"], date_from=date(2026, 11, 20),
                                          date_to=date(2026, 11, 20))
    assert arrival_id in [v.id for v in into_b]
    assert arrival_id not in [v.id for v in await arrivals.arrivals_into(
        places["hue_a"], date_from=date(2026, 11, 19), date_to=date(2026, 11, 20))]
    # Only the origin is left among its places.
    assert await ArrivalPlace.count().where(ArrivalPlace.arrival == arrival_id) == 1
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "arrival.correct") & (AuditEntry.person == owner))


async def test_a_correction_is_checked_like_a_declaration(database, places):
    account_id, _owner, arrival_id = await declared_one(database, places)
    with pytest.raises(FormErrors) as caught:
        await arrivals.correct(account_id, arrival_id,
                               trip(places, origin_region_code=places["hue_b"]),
                               province_code=HUE, province_name=HUE_NAME,
                               now=datetime(2026, 11, 19, 12, 0, tzinfo=VN))
    assert set(caught.value.errors) == {"origin_region"}
    assert (await arrivals.own_arrival(account_id, arrival_id)).values["origin_region"] == \
        places["hanoi"]


async def test_the_declarer_withdraws_an_arrival(database, places):
    account_id, owner, arrival_id = await declared_one(database, places)
    await arrivals.withdraw(account_id, arrival_id,
                            now=datetime(2026, 11, 20, 21, 0, tzinfo=VN))
    assert await arrivals.arrivals_of_account(account_id) == {}
    assert await ArrivalPlace.count().where(ArrivalPlace.arrival == arrival_id) == 0
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "arrival.withdraw") & (AuditEntry.person == owner))


async def test_only_the_declaring_phone_and_only_until_a_day_after_the_arrival(database,
                                                                             places):
    account_id, _owner, arrival_id = await declared_one(database, places)
    with pytest.raises(LookupError):
        await arrivals.withdraw(await account(), arrival_id,
                                now=datetime(2026, 11, 19, 12, 0, tzinfo=VN))
    with pytest.raises(LookupError):
        await arrivals.correct(await account(), arrival_id, trip(places), province_code=HUE,
                               province_name=HUE_NAME,
                               now=datetime(2026, 11, 19, 12, 0, tzinfo=VN))
    # Arrival 19/11 21:30: still changeable at 20/11 21:30, not a minute later.
    assert arrivals.changeable(datetime(2026, 11, 19, 21, 30, tzinfo=VN),
                               datetime(2026, 11, 20, 21, 30, tzinfo=VN))
    with pytest.raises(FormErrors) as caught:
        await arrivals.withdraw(account_id, arrival_id,
                                now=datetime(2026, 11, 20, 21, 31, tzinfo=VN))
    assert caught.value.errors["arrival"].code == "arrival.too_late_to_change"
    assert await ArrivalDeclaration.exists().where(ArrivalDeclaration.id == arrival_id)
