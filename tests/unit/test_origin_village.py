"""An arrival's origin down to the village (thôn / tổ dân phố): the origin picker offers the
level where the ward has villages, the arrival stores the village, and a quarantine policy on
that village applies — as do policies on its ward and province, as before."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from citizen_factories import account, person_fields

from khaibao.arrivals import arrivals, trips
from khaibao.arrivals.trip_form import ORIGIN_LEVELS, trip_pickers
from khaibao.arrivals.trips import TripData
from khaibao.citizens import person_input
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.policies import decisions, policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import region_picker, regions
from khaibao.tables import ArrivalDeclaration, ArrivalPlace

HUE = "VN-46"
CA_MAU = "VN-96"  # an origin province no other test sets policies on
VN = LOCAL_TIMEZONE
ARRIVAL = datetime(2031, 3, 10, 9, 0, tzinfo=VN)
AT = ARRIVAL + timedelta(hours=2)  # the officer's check


@pytest.fixture
async def origin(database, tmp_path) -> dict[str, regions.RegionView]:
    """A ward of Cà Mau with two villages, and another ward of Cà Mau without any."""
    wards = [w for w in await regions.children(CA_MAU) if w.kind == "ward"]
    ward, bare = wards[-1], wards[-2]
    number = ward.code.rsplit("-", 1)[1]
    csv = tmp_path / "villages.csv"
    csv.write_text(f"ward_code,name,kind\n{number},Ấp Tân Thành,village\n"
                   f"{number},Khóm 4,tổ dân phố\n", encoding="utf-8")
    report = await regions.import_villages_csv(csv)
    assert report.ok, report.errors
    villages = {v.name: v for v in await regions.children(ward.code)}
    return {"ward": ward, "bare": bare, "village": villages["Ấp Tân Thành"],
            "other_village": villages["Khóm 4"],
            "province": (await regions.ancestors(CA_MAU))[-1]}


async def add_policy(made: list[int], target: str, measure: str, days: int | None = 14):
    view = await policies.create(PolicyInput(
        target_region_code=target, measure=measure, days=days, custom_text="",
        effective_from=ARRIVAL - timedelta(days=10), effective_to=None,
        legal_reference="Công văn 7/SYT (thử)"), created_by=None,
        now=ARRIVAL - timedelta(days=10))
    made.append(view.policy_key)
    return view


async def declare_from(origin_code: str, settings) -> int:
    hue_ward = next(w for w in await regions.children(HUE) if w.kind == "ward")
    trip = TripData(departure_date=date(2031, 3, 9), arrival_at=ARRIVAL, transport="bus",
                    vehicle_number="69B-12345", destination_region_code=hue_ward.code,
                    origin_country="VN", origin_region_code=origin_code,
                    origin_detail="Nhà số 8")
    submission = await arrivals.submit(
        await account(), person_ids=[], trip=trip, client_ref=uuid.uuid4().hex,
        new_persons=[person_input.parse_person(person_fields())], settings=settings,
        province_code=HUE, province_name="Thành phố Huế")
    return submission.arrival_ids[0]


async def test_origin_picker_goes_down_to_the_village(origin, database):
    ward, village = origin["ward"], origin["village"]
    assert ORIGIN_LEVELS == ("province", "ward", "village")
    pickers = await trip_pickers(database, {
        "origin_region_province": CA_MAU, "origin_region_ward": ward.code,
        "origin_region_village": village.code})
    chosen = pickers["origin"]
    assert [level.kind for level in chosen.levels] == ["province", "ward", "village"]
    assert chosen.selected.code == village.code
    assert chosen.selected.label == f"Ấp Tân Thành, {ward.name}, Cà Mau"
    village_level = chosen.levels[-1]
    assert not village_level.required  # optional: a ward is enough
    assert {v.name for v in village_level.options} == {"Ấp Tân Thành", "Khóm 4"}
    # a ward chosen, no village: the ward is the origin
    only_ward = await trip_pickers(database, {"origin_region_province": CA_MAU,
                                          "origin_region_ward": ward.code,
                                          "origin_region_village": ""})
    assert only_ward["origin"].selected.code == ward.code and only_ward["origin"].complete
    # a ward without villages shows no village level at all
    bare = await region_picker.picker(levels=ORIGIN_LEVELS, pick=origin["bare"].code)
    assert [level.kind for level in bare.levels] == ["province", "ward"]
    # a village of another ward is dropped when the ward changes
    moved = await trip_pickers(database, {"origin_region_province": CA_MAU,
                                      "origin_region_ward": origin["bare"].code,
                                      "origin_region_village": village.code})
    assert moved["origin"].selected.code == origin["bare"].code


async def test_arrival_from_a_village_is_stored_with_it(origin, database):
    village = origin["village"]
    arrival_id = await declare_from(village.code, database)
    row = await ArrivalDeclaration.select(
        ArrivalDeclaration.origin_region.code.as_alias("code")).where(
        ArrivalDeclaration.id == arrival_id).first()
    assert row["code"] == village.code
    place = await ArrivalPlace.select(ArrivalPlace.path).where(
        (ArrivalPlace.arrival == arrival_id) & (ArrivalPlace.is_origin == True)).first()  # noqa: E712
    assert place["path"] == village.path
    view = (await arrivals._views(ArrivalDeclaration.id == arrival_id))[0]
    assert view.origin_region_code == village.code
    assert view.origin_label.startswith("Nhà số 8, Ấp Tân Thành, ")


async def test_policy_on_the_origin_village_applies(origin, database, made):
    village_arrival = await declare_from(origin["village"].code, database)
    neighbour_arrival = await declare_from(origin["other_village"].code, database)
    ward_arrival = await declare_from(origin["ward"].code, database)
    policy = await add_policy(made, origin["village"].code, "centralised", 21)

    decision = await decisions.decide_for_arrival(village_arrival, at=AT)
    assert decision.policy.policy_key == policy.policy_key
    assert (decision.measure, decision.days) == ("centralised", 21)
    assert decision.matched_place.region_code == origin["village"].code
    assert "Ấp Tân Thành" in " ".join(decision.reasons)
    # only that village: its neighbour and the rest of the ward are not under the policy
    assert (await decisions.decide_for_arrival(neighbour_arrival, at=AT)).measure == "none"
    assert (await decisions.decide_for_arrival(ward_arrival, at=AT)).measure == "none"
    # "who would this policy affect": the arrivals from that village
    affected = await decisions.preview_affected(PolicyInput(
        origin["village"].code, "centralised", 21, "", AT, None, ""), at=AT)
    assert affected >= 1


@pytest.mark.parametrize("level", ["ward", "province"])
async def test_policies_on_the_ward_and_province_still_apply(origin, database, made, level):
    from_village = await declare_from(origin["village"].code, database)
    from_ward = await declare_from(origin["ward"].code, database)
    policy = await add_policy(made, origin[level].code, "home", 7)
    for arrival_id in (from_village, from_ward):
        decision = await decisions.decide_for_arrival(arrival_id, at=AT)
        assert decision.policy.policy_key == policy.policy_key
        assert (decision.measure, decision.days) == ("home", 7)
    # when the village has its own, stricter policy, that one wins for the village only
    strict = await add_policy(made, origin["village"].code, "centralised", 14)
    assert (await decisions.decide_for_arrival(from_village, at=AT)).policy.policy_key == (
        strict.policy_key)
    assert (await decisions.decide_for_arrival(from_ward, at=AT)).policy.policy_key == (
        policy.policy_key)


async def test_origin_village_in_another_province_is_still_valid_origin(origin, database):
    """The origin may be any village of Vietnam (only the destination must be in Huế)."""
    errors: dict = {}
    trip = TripData(departure_date=date(2031, 3, 9), arrival_at=ARRIVAL, transport="other",
                    destination_region_code=(await regions.children(HUE))[0].code,
                    origin_region_code=origin["village"].code)
    await arrivals._trip_regions(trip, HUE, "Thành phố Huế", errors)
    assert "origin_region" not in errors


def test_the_messages_name_the_level_once():
    with pytest.raises(FormErrors) as caught:
        trips.parse_trip({"origin_country": "VN", "departure_date": "2026-11-18",
                             "arrival_at": "2026-11-19T08:00", "transport": "other"},
                            province_code=HUE, today=date(2026, 11, 20))
    errors = caught.value.errors
    assert errors["destination_region"].message("vi") == (
        "Hãy chọn nơi đến (ít nhất đến cấp phường/xã).")
    assert errors["origin_region"].message("vi") == "Hãy chọn nơi đi (ít nhất đến cấp phường/xã)."
    assert errors["destination_region"].message("en") == (
        "Please choose where you are going (at least down to the ward).")
