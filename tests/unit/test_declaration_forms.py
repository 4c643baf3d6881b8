"""The declaration form service: a raw form (strings) read into typed persons and answers,
every error next to its field with what was typed kept, and the one submit of health and
arrival declarations with the submission's errors mapped back to their fields."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from citizen_factories import account, add_person, cccd, person_fields
from multidict import MultiDict

from khaibao.arrivals.trip_form import TripFields, arrival_form
from khaibao.arrivals.trips import TripData
from khaibao.citizens.declaration_forms import (
    HEALTH_FORM,
    DeclarationForm,
    HealthFields,
    PersonBlock,
    PersonFields,
    declare,
    read_form,
)
from khaibao.citizens.declarations import HealthData
from khaibao.citizens.person_input import PersonData
from khaibao.core import clock
from khaibao.core.errors import InputError
from khaibao.regions import regions
from khaibao.tables import ArrivalDeclaration, HealthDeclaration, Person
from khaibao.vn.identity import IdType, Sex


def ref() -> str:
    return uuid.uuid4().hex


def person(index: int, **overrides: str) -> dict[str, str]:
    """Fieldset ``p{index}_…`` of a new person."""
    return {f"p{index}_{key}": value for key, value in person_fields(**overrides).items()}


def health(**overrides) -> dict:
    return {"places_visited": "Chợ Đông Ba", "symptoms": ["cough", "fever"], "exposures": [],
            "pledge": "on", **overrides}


def codes(errors: dict[str, InputError]) -> dict[str, str]:
    return {key: error.code for key, error in errors.items()}


# --- reading: typed values -------------------------------------------------------------------


async def test_a_valid_health_form_reads_into_typed_values(database):
    number = cccd(1990, "female")
    fields = {**person(0, id_number=number, birth_year="1990", bhyt=""), **health(),
              "persons": ["7", "x"], "client_ref": "ref-12345678"}
    form = await read_form(fields, HEALTH_FORM)
    assert isinstance(form, DeclarationForm) and form.is_valid and form.errors == {}
    assert form.person_ids == [7] and form.client_ref == "ref-12345678"
    [block] = form.blocks
    assert isinstance(block, PersonBlock) and block.index == 0 and block.errors == {}
    assert isinstance(block.values, PersonFields) and block.values.id_number == number
    assert isinstance(block.person, PersonData)
    assert (block.person.full_name, block.person.id_type, block.person.id_number,
            block.person.birth_year, block.person.sex) == (
        "Nguyễn Thị Hoa", IdType.CCCD, number, 1990, Sex.FEMALE)
    assert form.new_persons == [block.person]
    assert form.fields == HealthFields("Chợ Đông Ba", ("cough", "fever"), (), "on")
    assert form.answers == HealthData("Chợ Đông Ba", ("fever", "cough"), (), True)


async def test_an_html_multidict_reads_like_a_mapping(database):
    fields = MultiDict([*person(0).items(), ("symptoms", "fever"), ("symptoms", "cough"),
                        ("pledge", "on"), ("persons", "3"), ("persons", "4"),
                        ("client_ref", "ref-12345678")])
    form = await read_form(fields, HEALTH_FORM)
    assert form.is_valid and form.person_ids == [3, 4]
    assert form.answers is not None and form.answers.symptoms == ("fever", "cough")


async def test_the_region_is_the_pickers_choice(database):
    ward = [w for w in await regions.children("VN-46") if w.kind == "ward"][0]
    fields = {**person(0, region=""), "p0_region_province": "VN-46",
              "p0_region_ward": ward.code, **health()}
    form = await read_form(fields, HEALTH_FORM)
    [block] = form.blocks
    assert block.values.region == ward.code and block.picker is not None
    assert block.person is not None and block.person.region_code == ward.code


# --- reading: every error next to its field, what was typed kept -----------------------------


async def test_every_person_error_is_on_its_field_and_the_values_are_kept(database):
    typed = {"full_name": "", "id_type": "visa", "id_number": "12", "birth_year": "1850",
             "sex": "", "nationality": "ZZ", "region": "", "address_detail": "x" * 201,
             "bhyt": "HS44"}
    fields = {**{f"p2_{key}": value for key, value in typed.items()}, **health()}
    form = await read_form(fields, HEALTH_FORM)
    assert not form.is_valid and form.errors == {}
    [block] = form.blocks
    assert block.index == 2 and block.person is None
    assert codes(block.errors) == {
        "full_name": "name.required", "id_type": "id_type.invalid",
        "birth_year": "birth_year.range", "sex": "sex.required",
        "nationality": "nationality.invalid", "address_detail": "address.too_long",
        "bhyt": "bhyt.format"}
    assert block.values == PersonFields(**typed)
    assert all(error.message("vi") and error.message("en") for error in block.errors.values())


async def test_every_health_error_is_on_its_field_and_the_values_are_kept(database):
    fields = {**person(0), "places_visited": "x" * 1001, "symptoms": ["fever", "covid"],
              "exposures": ["nobody"], "pledge": ""}
    form = await read_form(fields, HEALTH_FORM)
    assert not form.is_valid and form.answers is None
    assert codes(form.errors) == {
        "places_visited": "declaration.places_too_long",
        "symptoms": "declaration.symptom_unknown",
        "exposures": "declaration.exposure_unknown", "pledge": "declaration.pledge_required"}
    assert form.fields == HealthFields("x" * 1001, ("fever", "covid"), ("nobody",), "")
    assert form.blocks[0].person is not None  # the person part is still read


async def test_blank_fieldsets_are_dropped_but_one_stays_when_nobody_is_ticked(database):
    blank = {"p1_full_name": "", "p1_id_number": "", "p1_nationality": "VN"}
    filled = await read_form({**person(0), **blank, **health()}, HEALTH_FORM)
    assert [b.index for b in filled.blocks] == [0]
    ticked = await read_form({**blank, "persons": "5", **health()}, HEALTH_FORM)
    assert ticked.blocks == [] and ticked.is_valid
    nobody = await read_form({**blank, **health()}, HEALTH_FORM)
    [block] = nobody.blocks
    assert block.index == 1 and "full_name" in block.errors and not nobody.is_valid


async def test_a_form_that_may_not_choose_ignores_ticked_persons(database):
    form = await read_form({"persons": ["5"], **health()}, HEALTH_FORM, may_choose=False)
    assert form.person_ids == []
    [block] = form.blocks
    assert block.index == 0 and block.values.is_blank and not block.errors


# --- submitting ------------------------------------------------------------------------------


async def test_declare_saves_a_valid_form_once(database):
    account_id = await account()
    fields = {**person(0), **health(), "client_ref": ref()}
    form, submission = await declare(fields, HEALTH_FORM, account_id, settings=database)
    assert form.is_valid and submission is not None and not submission.replayed
    assert [p.full_name for p in submission.persons] == ["Nguyễn Thị Hoa"]
    again, replay = await declare(fields, HEALTH_FORM, account_id, settings=database)
    assert replay.replayed and replay.declaration_ids == submission.declaration_ids
    assert await HealthDeclaration.count().where(HealthDeclaration.account == account_id) == 1


async def test_declare_saves_nothing_for_an_invalid_form_or_when_held(database):
    account_id = await account()
    bad, nothing = await declare({**person(0), **health(pledge="")}, HEALTH_FORM, account_id,
                                 settings=database)
    assert nothing is None and codes(bad.errors) == {"pledge": "declaration.pledge_required"}
    held, nothing = await declare({**person(0), **health(), "client_ref": ref()}, HEALTH_FORM,
                                  account_id, settings=database, hold=True)
    assert nothing is None and held.is_valid
    assert await Person.count().where(Person.account == account_id) == 0


async def test_the_submissions_errors_go_back_to_their_fields(database):
    account_id = await account()
    taken = person_fields(full_name="Lê Văn Bình")
    await add_person(account_id, database, taken)  # already on this phone
    fields = {**person(0), **{f"p1_{k}": v for k, v in taken.items()}, **health(),
              "client_ref": ref()}
    form, submission = await declare(fields, HEALTH_FORM, account_id, settings=database)
    assert submission is None
    assert form.blocks[0].errors == {}
    assert codes(form.blocks[1].errors) == {"id_number": "person.already_listed"}
    assert form.blocks[1].values.full_name == "Lê Văn Bình"  # kept as typed
    # form-wide errors stay on the form
    no_ref, _ = await declare({**person(0), **health(), "client_ref": "?"}, HEALTH_FORM,
                              account_id, settings=database)
    assert codes(no_ref.errors) == {"client_ref": "declaration.client_ref_invalid"}
    nobody, _ = await declare({**health(), "client_ref": ref()}, HEALTH_FORM, account_id,
                              settings=database)
    assert nobody.blocks == [] and codes(nobody.errors) == {"persons": "declaration.no_person"}
    strangers, _ = await declare({**health(), "persons": ["999999999"], "client_ref": ref()},
                                 HEALTH_FORM, account_id, settings=database)
    assert codes(strangers.errors) == {"persons": "declaration.person_unknown"}
    assert await Person.count().where(Person.account == account_id) == 1  # nothing added


def test_assign_errors_puts_new_person_errors_on_their_fieldset():
    form = DeclarationForm([], [PersonBlock(0, PersonFields()), PersonBlock(3, PersonFields())],
                           "ref", HealthFields(), None)
    error = InputError("x.y", "Lỗi")
    form.assign_errors({"new1.id_number": error, "new5.region": error, "persons": error})
    assert form.blocks[1].errors == {"id_number": error} and form.blocks[0].errors == {}
    assert form.errors == {"new5.region": error, "persons": error}


# --- the arrival's trip ----------------------------------------------------------------------


@pytest.fixture
async def wards(database):
    hue = [w for w in await regions.children("VN-46") if w.kind == "ward"]
    hanoi = [w for w in await regions.children("VN-01") if w.kind == "ward"]
    return {"hue": hue[0].code, "hanoi": hanoi[0].code, "hanoi_b": hanoi[1].code}


def trip(wards, **overrides) -> dict:
    today = clock.today()
    return {"origin_country": "VN", "origin_region_province": "VN-01",
            "origin_region_ward": wards["hanoi"], "passed0_region_province": "VN-01",
            "passed0_region_ward": wards["hanoi_b"],
            "departure_date": (today - timedelta(days=1)).isoformat(),
            "arrival_at": f"{today.isoformat()}T08:30", "transport": "car",
            "vehicle_number": "75a-123.45", "checkpoint": "", "destination_region": wards["hue"],
            "destination_detail": " 12  Lê Lợi ", "purpose": "Về quê", "contact_phone": "",
            **overrides}


async def test_a_valid_trip_reads_into_typed_values(database, wards):
    form = await read_form({**person(0), **trip(wards)}, arrival_form(database))
    assert form.is_valid
    assert isinstance(form.fields, TripFields)
    assert (form.fields.origin_region, form.fields.passed_regions,
            form.fields.destination_region) == (wards["hanoi"], (wards["hanoi_b"],),
                                                wards["hue"])
    assert form.fields.pickers["origin"].selected.code == wards["hanoi"]
    assert isinstance(form.answers, TripData)
    assert form.answers.arrival_at.date() == clock.today()
    assert (form.answers.vehicle_number, form.answers.destination_detail) == (
        "75A-123.45", "12 Lê Lợi")


async def test_every_trip_error_is_on_its_field_and_the_values_are_kept(database, wards):
    fields = {**person(0), **trip(wards, origin_region_province="", origin_region_ward="",
                                  departure_date="hôm qua", arrival_at="", transport="tank",
                                  vehicle_number="?", checkpoint="abc", destination_region="",
                                  purpose="x" * 201, contact_phone="123")}
    form = await read_form(fields, arrival_form(database))
    assert form.answers is None
    assert codes(form.errors) == {
        "origin_region": "origin_region.required", "departure_date": "departure_date.invalid",
        "arrival_at": "arrival_at.required", "transport": "transport.invalid",
        "vehicle_number": "vehicle_number.invalid", "checkpoint": "checkpoint.invalid",
        "destination_region": "destination.required", "purpose": "text.too_long",
        "contact_phone": "phone.invalid"}
    assert (form.fields.departure_date, form.fields.transport, form.fields.purpose) == (
        "hôm qua", "tank", "x" * 201)


async def test_declare_an_arrival_and_the_region_checks_go_to_their_fields(database, wards):
    account_id = await account()
    fields = {**person(0), **trip(wards), "client_ref": ref()}
    form, submission = await declare(fields, arrival_form(database), account_id,
                                     settings=database)
    assert submission is not None and len(submission.arrival_ids) == 1
    # a province is chosen in the picker, but the origin must be a ward: refused on submit
    coarse = {**person(0), **trip(wards, origin_region_ward=""), "client_ref": ref()}
    refused, nothing = await declare(coarse, arrival_form(database), await account(),
                                     settings=database)
    assert nothing is None and refused.fields.origin_region == "VN-01"
    assert codes(refused.errors) == {"origin_region": "region.too_coarse"}
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.account == account_id) == 1
