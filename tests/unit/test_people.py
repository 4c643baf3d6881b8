"""Persons of a phone: form parsing, storage without clear IDs, conflicts, IDOR, QR tokens."""

import asyncio
from datetime import date

import pytest
from citizen_factories import (
    account,
    add_person,
    bhyt_number,
    cccd,
    child_fields,
    person_fields,
    phone,
    region_tree,
)

from khaibao.citizens import people, person_input
from khaibao.citizens.person_input import PERSON_FIELDS
from khaibao.core import crypto
from khaibao.core.errors import FormErrors
from khaibao.qr.tokens import TokenKind, issue_venue_code, make_token, verify
from khaibao.tables import Account, HealthDeclaration, Person
from khaibao.vn.identity import IdType, Sex

# --- parse_person ---------------------------------------------------------------------------


def test_parse_person_valid():
    number, card = cccd(1990, "male"), bhyt_number()
    data = person_input.parse_person(person_fields(
        full_name="  nguyễn   văn an ", id_number=number[:6] + " " + number[6:],
        birth_year="1990", sex="male", nationality="", region="VN-46-19753",
        address_detail="  Thôn   Đông ", bhyt=card.lower()))
    assert data.full_name == "nguyễn văn an"
    assert (data.id_type, data.id_number, data.birth_year, data.sex) == (
        IdType.CCCD, number, 1990, Sex.MALE)
    assert (data.nationality, data.region_code, data.address_detail) == (
        "VN", "VN-46-19753", "Thôn Đông")
    assert data.bhyt.full == card and data.bhyt.social_insurance_number == card[-10:]


def test_parse_person_reports_every_missing_field_at_once():
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person({})
    errors = caught.value.errors
    assert set(errors) == {"full_name", "id_type", "birth_year", "sex"}
    assert set(errors) <= set(PERSON_FIELDS)
    assert errors["birth_year"].message("vi") == "Hãy nhập năm sinh."
    assert errors["sex"].message("en") == "Please choose the sex."
    assert errors["id_type"].code == "id_type.required"
    assert "họ và tên" in errors["full_name"].message("vi")


def test_parse_person_many_bad_fields():
    fields = person_fields(id_type="visa", birth_year="19x0", sex="other", nationality="XX",
                           region="bad code!", address_detail="x" * 201, bhyt="AB123")
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(fields)
    codes = {field: e.code for field, e in caught.value.errors.items()}
    assert codes == {"id_type": "id_type.invalid", "birth_year": "birth_year.invalid",
                     "sex": "sex.invalid", "nationality": "nationality.invalid",
                     "region": "region.invalid", "address_detail": "address.too_long",
                     "bhyt": "bhyt.format"}


@pytest.mark.parametrize(("year", "sex", "code"), [
    ("1991", "male", "cccd.birth_year_mismatch"),
    ("2090", "male", "cccd.birth_year_mismatch"),
    ("1990", "female", "cccd.sex_mismatch"),
])
def test_cccd_must_match_birth_year_and_sex(year, sex, code):
    fields = person_fields(id_number=cccd(1990, "male"), birth_year=year, sex=sex)
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(fields, today=date(2095, 1, 1))
    error = caught.value.errors["id_number"]
    assert error.code == code
    assert "không khớp" in error.message("vi") and "does not match" in error.message("en")


def test_birth_year_in_the_future_is_refused():
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(person_fields(birth_year="2031"), today=date(2030, 6, 1))
    assert caught.value.errors["birth_year"].code == "birth_year.range"


@pytest.mark.parametrize("number", ["", "000000000", "000 000 000"])
def test_no_id(number):
    data = person_input.parse_person(child_fields(id_number=number))
    assert (data.id_type, data.id_number) == (IdType.NONE, "")


def test_no_id_type_with_a_number_is_refused():
    with pytest.raises(FormErrors) as caught:
        person_input.parse_person(child_fields(id_number="123456789"))
    assert caught.value.errors["id_number"].code == "id.none_format"


def test_passport_and_cmnd_and_nationality():
    data = person_input.parse_person(person_fields(id_type="passport", id_number="c1234567",
                                             nationality="fr"))
    assert (data.id_type, data.id_number, data.nationality) == (IdType.PASSPORT, "C1234567", "FR")
    cmnd = person_input.parse_person(person_fields(id_type="cmnd", id_number="191234567"))
    assert cmnd.id_number == "191234567"
    with pytest.raises(FormErrors):
        person_input.parse_person(person_fields(nationality="ZZ"))


# --- accounts ---------------------------------------------------------------------------------


async def test_account_for_phone_is_get_or_create_and_race_safe(database):
    number = phone()
    ids = await asyncio.gather(*(people.account_for_phone(number) for _ in range(5)))
    assert len(set(ids)) == 1
    assert await Account.count().where(Account.phone == number) == 1
    row = await Account.select().where(Account.id == ids[0]).first()
    assert row["last_verified_at"] is not None
    with pytest.raises(ValueError):
        await people.account_for_phone("0912345678")


# --- creating, reading ----------------------------------------------------------------------


async def test_persons_of_owner_first_with_region_label_and_token(database):
    settings = database
    async with region_tree() as regions:
        account_id = await account()
        relative = await add_person(account_id, settings, child_fields(name="Lê Văn Tí"))
        owner = await add_person(account_id, settings, person_fields(region=regions["ward"]),
                                 is_owner=True)
        views = await people.persons_of(account_id, settings)
        assert [v.id for v in views] == [owner, relative]
        first = views[0]
        assert first.is_owner and first.account_id == account_id
        assert first.region_code == regions["ward"]
        assert first.region_label == "Phường Thuận An, Thành phố Huế"
        assert first.id_masked.count("*") == 6 and first.last_declared_at is None
        assert verify(first.token, settings.secret_key).kind is TokenKind.PERSON
        assert views[1].id_type is IdType.NONE and views[1].id_masked == ""
        assert views[1].region_label == "" and views[1].channel == "relative"


async def test_last_declared_at_is_the_latest_declaration(database):
    settings = database
    account_id = await account()
    person_id = await add_person(account_id, settings)
    from datetime import UTC, datetime, timedelta

    times = [datetime(2026, 1, 1, 8, tzinfo=UTC) + timedelta(hours=h) for h in (0, 5, 2)]
    for n, at in enumerate(times):
        await HealthDeclaration.insert(HealthDeclaration(
            person=person_id, account=account_id, client_ref=f"last-{person_id}-{n}",
            submitted_at=at, channel="self")).run()
    view = await people.get_person(account_id, person_id, settings)
    assert view.last_declared_at == times[1]


async def test_get_person_of_another_account_is_not_found(database):
    settings = database
    mine, theirs = await account(), await account()
    person_id = await add_person(theirs, settings)
    with pytest.raises(people.PersonNotFound):
        await people.get_person(mine, person_id, settings)
    with pytest.raises(people.PersonNotFound):
        await people.get_person(mine, 2**31 - 1, settings)
    assert (await people.get_person(theirs, person_id, settings)).id == person_id


async def test_id_is_stored_hashed_masked_and_encrypted(database):
    settings = database
    fields = person_fields(bhyt=bhyt_number())
    person_id = await add_person(await account(), settings, fields)
    row = await Person.select().where(Person.id == person_id).first()
    key = settings.secret_key
    assert crypto.decrypt(row["id_encrypted"], key, "id") == fields["id_number"]
    assert crypto.decrypt(row["bhyt_encrypted"], key, "bhyt") == fields["bhyt"]
    assert row["id_hash"] != fields["id_number"] and len(row["id_hash"]) == 64
    assert row["bhyt_masked"].startswith("DN4") and "*" in row["bhyt_masked"]


async def test_find_by_id_number(database):
    settings = database
    fields = person_fields(id_type="passport", id_number="B" + cccd()[-7:])
    person_id = await add_person(await account(), settings, fields)
    found = await people.find_by_id_number(" " + fields["id_number"].lower() + " ", settings)
    assert found is not None and found.id == person_id
    assert await people.find_by_id_number(cccd(), settings) is None
    assert await people.find_by_id_number("000000000", settings) is None
    assert await people.find_by_id_number("", settings) is None


async def test_find_by_token_and_reissue(database):
    settings = database
    account_id = await account()
    person_id = await add_person(account_id, settings)
    old = (await people.get_person(account_id, person_id, settings)).token
    assert (await people.find_by_token(old.lower(), settings)).id == person_id
    renewed = await people.reissue_qr(account_id, person_id, settings)
    assert renewed.token != old
    assert await people.find_by_token(old, settings) is None
    assert (await people.find_by_token(renewed.token, settings)).id == person_id
    forged = make_token(TokenKind.PERSON, verify(renewed.token, settings.secret_key).reference,
                        b"another-secret-key-0123456789abcdef")
    assert await people.find_by_token(forged, settings) is None
    assert await people.find_by_token(issue_venue_code(settings.secret_key)[0], settings) is None
    assert await people.find_by_token("garbage", settings) is None
    with pytest.raises(people.PersonNotFound):
        await people.reissue_qr(await account(), person_id, settings)


# --- conflicts ------------------------------------------------------------------------------


async def test_id_on_another_phone_is_declared_there_too(database):
    """Two phones, one ID: each keeps its own row (its name, its QR), neither is touched."""
    settings = database
    fields = person_fields()
    first = await add_person(await account(), settings, fields)
    other = await account()
    second = await add_person(other, settings, {**fields, "full_name": "Kẻ Khác"})
    assert second != first
    (mine,) = await people.persons_of(other, settings)
    assert mine.full_name == "Kẻ Khác"
    assert (await Person.select(Person.full_name).where(Person.id == first).first()
            )["full_name"] == fields["full_name"]
    hashes = await Person.select(Person.id_hash).where(Person.id.is_in([first, second]))
    assert len({row["id_hash"] for row in hashes}) == 1


async def test_id_already_on_this_phone_is_refused(database):
    settings = database
    account_id = await account()
    fields = person_fields()
    await add_person(account_id, settings, fields)
    with pytest.raises(FormErrors) as caught:
        await add_person(account_id, settings, fields)
    assert caught.value.errors["id_number"].code == "person.already_listed"
    assert "đã có trong danh sách" in caught.value.errors["id_number"].message("vi")


async def test_child_without_id_is_reused_on_the_same_phone_only(database):
    settings = database
    account_id = await account()
    first = await add_person(account_id, settings, child_fields("Trần Bé Na", "2019"))
    again = await add_person(account_id, settings, child_fields("  tran  be na ", "2019"))
    assert again == first
    sibling = await add_person(account_id, settings, child_fields("Trần Bé Na", "2020"))
    assert sibling != first
    elsewhere = await add_person(await account(), settings, child_fields("Trần Bé Na", "2019"))
    assert elsewhere != first
    assert len(await people.persons_of(account_id, settings)) == 2


async def test_unknown_region_is_refused(database):
    settings = database
    with pytest.raises(FormErrors) as caught:
        await add_person(await account(), settings, person_fields(region="NO-SUCH-REGION"))
    assert caught.value.errors["region"].code == "region.unknown"


# --- updating -------------------------------------------------------------------------------


async def test_update_person(database):
    settings = database
    async with region_tree() as regions:
        account_id = await account()
        fields = person_fields()
        person_id = await add_person(account_id, settings, fields)
        data = person_input.parse_person({**fields, "region": regions["ward"],
                                          "address_detail": "Số 5"})
        view = await people.update_person(account_id, person_id, data, settings)
        assert (view.address_detail, view.region_code) == ("Số 5", regions["ward"])
        assert view.region_label.startswith("Phường Thuận An")


async def test_update_person_conflicts_and_idor(database):
    settings = database
    account_id = await account()
    person_id = await add_person(account_id, settings)
    sibling = person_fields()
    await add_person(account_id, settings, sibling)
    elsewhere = person_fields()
    await add_person(await account(), settings, elsewhere)
    with pytest.raises(FormErrors) as caught:
        await people.update_person(account_id, person_id, person_input.parse_person(sibling),
                                   settings)
    assert caught.value.errors["id_number"].code == "person.already_listed"
    # Another phone's ID is no conflict: this phone's person may take it too.
    updated = await people.update_person(account_id, person_id,
                                         person_input.parse_person(elsewhere), settings)
    assert updated.full_name == elsewhere["full_name"]
    with pytest.raises(people.PersonNotFound):
        await people.update_person(await account(), person_id,
                                   person_input.parse_person(person_fields()), settings)
