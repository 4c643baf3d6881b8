"""Health declarations: form parsing, all-or-nothing submissions, idempotency, channels."""

import asyncio
import dataclasses
import uuid

import pytest
from citizen_factories import (
    account,
    add_person,
    bhyt_number,
    cccd,
    child_fields,
    person_fields,
    region_tree,
)

from khaibao.citizens import declarations, insurance, people, person_input
from khaibao.citizens.declarations import HealthData
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import current_language, gettext
from khaibao.tables import HealthDeclaration, InsuranceRecord, Person

HEALTH = HealthData("Chợ Đông Ba", ("fever",), (), True)


def ref() -> str:
    return uuid.uuid4().hex


async def count_declarations(account_id: int) -> int:
    return await HealthDeclaration.count().where(HealthDeclaration.account == account_id)


# --- parse_health --------------------------------------------------------------------------


def test_parse_health():
    data = declarations.parse_health({
        "places_visited": "  Chợ Đông Ba,\nBệnh viện Trung ương Huế  ",
        "symptoms": ["cough", "fever", "cough"], "exposures": "from_area", "pledge": "on"})
    assert data == HealthData("Chợ Đông Ba,\nBệnh viện Trung ương Huế", ("fever", "cough"),
                              ("from_area",), True)


def test_parse_health_nothing_declared_but_pledged():
    data = declarations.parse_health({"pledge": "1"})
    assert data == HealthData("", (), (), True)


def test_parse_health_accepts_a_multidict():
    from multidict import MultiDict

    form = MultiDict([("symptoms", "fatigue"), ("symptoms", "taste_smell"), ("pledge", "yes")])
    assert declarations.parse_health(form).symptoms == ("taste_smell", "fatigue")


def test_parse_health_reports_every_error():
    with pytest.raises(FormErrors) as caught:
        declarations.parse_health({"places_visited": "x" * 1001, "symptoms": ["fever", "covid"],
                                   "exposures": ["bats"], "pledge": "off"})
    errors = caught.value.errors
    assert {f: e.code for f, e in errors.items()} == {
        "places_visited": "declaration.places_too_long",
        "symptoms": "declaration.symptom_unknown",
        "exposures": "declaration.exposure_unknown",
        "pledge": "declaration.pledge_required"}
    assert errors["pledge"].message("vi") == "Bạn cần cam kết thông tin khai báo là đúng sự thật."


def test_labels_are_vietnamese_msgids():
    assert dict(declarations.SYMPTOMS)["taste_smell"] == "Mất vị giác hoặc khứu giác"
    assert len(declarations.EXPOSURES) == 3
    token = current_language.set("vi")
    try:
        assert gettext(dict(declarations.SYMPTOMS)["fever"]) == "Sốt"
    finally:
        current_language.reset(token)


# --- submit --------------------------------------------------------------------------------


async def test_first_submission_creates_owner_and_relatives(database):
    settings = database
    async with region_tree() as regions:
        account_id = await account()
        owner = person_input.parse_person(person_fields(region=regions["ward"]))
        child = person_input.parse_person(child_fields())
        result = await declarations.submit(account_id, person_ids=[], new_persons=[owner, child],
                                           health=HEALTH, client_ref=ref(), settings=settings)
        assert not result.replayed and len(result.declaration_ids) == 2
        assert [p.is_owner for p in result.persons] == [True, False]
        assert [p.channel for p in result.persons] == ["self", "relative"]
        rows = await HealthDeclaration.select().where(HealthDeclaration.account == account_id
                                                      ).order_by(HealthDeclaration.client_ref)
        ref_ = result.client_ref
        assert [r["client_ref"] for r in rows] == [f"{ref_}:0", f"{ref_}:1"]
        assert [r["channel"] for r in rows] == ["self", "relative"]
        assert rows[0]["region"] is not None and rows[1]["region"] is None
        assert rows[0]["symptoms"] == "fever" and rows[0]["has_symptoms"]
        assert rows[0]["places_visited"] == "Chợ Đông Ba"
        last = await declarations.last_declaration(result.persons[0].id)
        assert last.symptoms == ("Sốt",) and last.symptom_codes == ("fever",) and last.has_symptoms
        assert last.channel == "self" and last.exposures == ()
        views = await people.persons_of(account_id, settings)
        assert all(v.last_declared_at == result.submitted_at for v in views)


async def test_declare_again_for_existing_persons(database):
    settings = database
    account_id = await account()
    owner = await add_person(account_id, settings, is_owner=True)
    relative = await add_person(account_id, settings)
    result = await declarations.submit(
        account_id, person_ids=[relative, owner, relative], new_persons=[],
        health=HealthData("", (), ("symptomatic",), True), client_ref=ref(), settings=settings)
    assert [p.id for p in result.persons] == [relative, owner]
    last = await declarations.last_declaration(owner)
    assert not last.has_symptoms and last.exposure_codes == ("symptomatic",)
    assert last.exposures == ("Tiếp xúc với người có biểu hiện sốt, ho, khó thở",)
    assert (await declarations.last_declaration(relative)).channel == "relative"
    assert await declarations.last_declaration(2**31 - 1) is None


async def test_at_least_one_person(database):
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(await account(), person_ids=[], new_persons=[], health=HEALTH,
                                  client_ref=ref(), settings=database)
    assert caught.value.errors["persons"].message("vi") == (
        "Hãy chọn hoặc thêm ít nhất một người để khai báo.")


@pytest.mark.parametrize("client_ref", ["short", "x" * 65, "has space-1234", "dấu-12345678", ""])
async def test_client_ref_format(database, client_ref):
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(await account(), person_ids=[], new_persons=[
            person_input.parse_person(person_fields())], health=HEALTH, client_ref=client_ref,
            settings=database)
    assert set(caught.value.errors) == {"client_ref"}


async def test_person_of_another_account_is_refused(database):
    settings = database
    mine, theirs = await account(), await account()
    their_person = await add_person(theirs, settings)
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(mine, person_ids=[their_person], new_persons=[],
                                  health=HEALTH, client_ref=ref(), settings=settings)
    assert caught.value.errors["persons"].code == "declaration.person_unknown"
    assert await count_declarations(mine) == 0 and await count_declarations(theirs) == 0


async def test_id_on_another_phone_is_declared_all_the_same(database):
    settings = database
    taken = person_fields()
    await add_person(await account(), settings, taken)
    account_id = await account()
    new = [person_input.parse_person(person_fields()), person_input.parse_person(child_fields()),
           person_input.parse_person(taken)]
    done = await declarations.submit(account_id, person_ids=[], new_persons=new, health=HEALTH,
                                     client_ref=ref(), settings=settings)
    assert len(done.persons) == 3
    assert await Person.count().where(Person.account == account_id) == 3
    assert await count_declarations(account_id) == 3


async def test_errors_of_several_new_persons_at_once(database):
    settings = database
    account_id = await account()
    listed = person_fields()
    await add_person(account_id, settings, listed)
    new = [person_input.parse_person(listed),
           person_input.parse_person(person_fields(region="NOPE-1"))]
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(account_id, person_ids=[], new_persons=new, health=HEALTH,
                                  client_ref=ref(), settings=settings)
    assert {f: e.code for f, e in caught.value.errors.items()} == {
        "new0.id_number": "person.already_listed", "new1.region": "region.unknown"}
    assert await Person.count().where(Person.account == account_id) == 1


async def test_child_without_id_declared_twice_is_one_person(database):
    settings = database
    account_id = await account()
    for _ in range(2):
        await declarations.submit(account_id, person_ids=[], new_persons=[
            person_input.parse_person(child_fields("Phan Bé Bi", "2021"))], health=HEALTH,
            client_ref=ref(), settings=settings)
    persons = await people.persons_of(account_id, settings)
    assert len(persons) == 1 and persons[0].is_owner
    assert await count_declarations(account_id) == 2


async def test_double_submit_is_replayed(database):
    settings = database
    account_id = await account()
    client_ref = ref()
    kwargs = dict(person_ids=[], new_persons=[person_input.parse_person(person_fields()),
                                              person_input.parse_person(child_fields())],
                  health=HEALTH, client_ref=client_ref, settings=settings)
    first = await declarations.submit(account_id, **kwargs)
    second = await declarations.submit(account_id, **kwargs)
    assert (first.replayed, second.replayed) == (False, True)
    assert second.declaration_ids == first.declaration_ids
    assert [p.id for p in second.persons] == [p.id for p in first.persons]
    assert second.submitted_at == first.submitted_at
    assert await count_declarations(account_id) == 2


async def test_concurrent_double_submit_declares_once(database):
    settings = database
    account_id = await account()
    owner = await add_person(account_id, settings, is_owner=True)
    client_ref = ref()
    results = await asyncio.gather(*(declarations.submit(
        account_id, person_ids=[owner], new_persons=[person_input.parse_person(child_fields())],
        health=HEALTH, client_ref=client_ref, settings=settings) for _ in range(4)))
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert len({tuple(r.declaration_ids) for r in results}) == 1
    assert await count_declarations(account_id) == 2
    assert await Person.count().where(Person.account == account_id) == 2


async def test_concurrent_double_submit_for_existing_persons_declares_once(database):
    """Existing persons only: no transaction, one INSERT — the unique client_ref makes the
    others replays, on both engines."""
    settings = database
    account_id = await account()
    owner = await add_person(account_id, settings, is_owner=True)
    relative = await add_person(account_id, settings)
    client_ref = ref()
    results = await asyncio.gather(*(declarations.submit(
        account_id, person_ids=[owner, relative], new_persons=[], health=HEALTH,
        client_ref=client_ref, settings=settings) for _ in range(6)))
    assert sorted(r.replayed for r in results) == [False] + [True] * 5
    assert len({tuple(r.declaration_ids) for r in results}) == 1
    assert await count_declarations(account_id) == 2


async def test_unique_violation_on_client_ref_returns_the_winner(database, monkeypatch):
    """Without the account lock (PostgreSQL), the loser's insert hits the unique client_ref:
    its transaction rolls back and it returns the winner's submission."""
    monkeypatch.setattr(declarations.db, "for_update", lambda query: query)
    settings = database
    account_id = await account()
    client_ref = ref()
    results = await asyncio.gather(*(declarations.submit(
        account_id, person_ids=[], new_persons=[person_input.parse_person(child_fields())],
        health=HEALTH, client_ref=client_ref, settings=settings) for _ in range(3)))
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert await count_declarations(account_id) == 1
    assert await Person.count().where(Person.account == account_id) == 1


async def test_concurrent_same_id_from_two_phones(database):
    settings = database
    fields = person_fields()
    accounts = [await account(), await account()]
    results = await asyncio.gather(*(declarations.submit(
        a, person_ids=[], new_persons=[person_input.parse_person(fields)], health=HEALTH,
        client_ref=ref(), settings=settings) for a in accounts), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert await Person.count().where(Person.account.is_in(accounts)) == 2


async def test_client_ref_of_another_account_shows_nothing(database):
    settings = database
    client_ref = ref()
    await declarations.submit(await account(), person_ids=[], new_persons=[
        person_input.parse_person(person_fields())], health=HEALTH, client_ref=client_ref,
        settings=settings)
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(await account(), person_ids=[], new_persons=[
            person_input.parse_person(person_fields())], health=HEALTH, client_ref=client_ref,
            settings=settings)
    assert set(caught.value.errors) == {"client_ref"}


async def test_officer_channel(database):
    settings = database
    account_id = await account()
    result = await declarations.submit(
        account_id, person_ids=[], new_persons=[person_input.parse_person(person_fields())],
        health=HEALTH, client_ref=ref(), settings=settings, channel="paper", officer_id=7)
    assert result.persons[0].channel == "paper"
    row = await HealthDeclaration.select().where(
        HealthDeclaration.id == result.declaration_ids[0]).first()
    assert (row["channel"], row["officer_id"]) == ("paper", 7)
    with pytest.raises(ValueError):
        await declarations.submit(account_id, person_ids=[result.persons[0].id],
                                  new_persons=[], health=HEALTH, client_ref=ref(),
                                  settings=settings, channel="fax")


async def test_submission_lookup(database):
    settings = database
    account_id = await account()
    made = await declarations.submit(account_id, person_ids=[], new_persons=[
        person_input.parse_person(person_fields()), person_input.parse_person(child_fields())],
        health=HEALTH, client_ref=ref(), settings=settings)
    found = await declarations.submission(account_id, made.client_ref, settings)
    assert found.replayed and found.declaration_ids == made.declaration_ids
    assert [p.id for p in found.persons] == [p.id for p in made.persons]
    assert found.submitted_at == made.submitted_at
    assert await declarations.submission(await account(), made.client_ref, settings) is None
    assert await declarations.submission(account_id, ref(), settings) is None
    assert await declarations.submission(account_id, "bad ref", settings) is None
    # "_" is a LIKE wildcard: a lookalike reference must not match.
    lookalike = made.client_ref[:-1] + "_"
    assert await declarations.submission(account_id, lookalike, settings) is None


async def test_no_clear_id_or_bhyt_number_anywhere_in_the_database(database, tmp_path):
    settings = database
    owner = person_fields(bhyt=bhyt_number())
    relative = person_fields(id_type="passport", id_number="N" + cccd()[-7:], bhyt=bhyt_number())
    cmnd = person_fields(id_type="cmnd", id_number=cccd()[-9:], bhyt=bhyt_number()[-10:])
    forms = (owner, relative, cmnd)
    csv_path = tmp_path / "bhyt.csv"
    csv_path.write_text("bhyt,full_name,birth_year,sex\n" + "".join(
        f"{f['bhyt']},{f['full_name']},{f['birth_year']},{f['sex']}\n" for f in forms))
    assert (await insurance.import_csv(csv_path, settings)).ok
    await declarations.submit(await account(), person_ids=[], new_persons=[
        person_input.parse_person(f) for f in forms], health=HEALTH, client_ref=ref(),
        settings=settings)
    secrets = [f["id_number"] for f in forms] + [f["bhyt"] for f in forms] + [
        f["bhyt"][-10:] for f in forms]
    scanned = 0
    for table in (Person, HealthDeclaration, InsuranceRecord):
        for row in await table.select():
            for column, value in row.items():
                if isinstance(value, str):
                    scanned += 1
                    leaked = [s for s in secrets if s.lower() in value.lower()]
                    assert not leaked, (table._meta.tablename, column, value)
    assert scanned > 3 * 10


async def test_declarations_are_capped_per_phone_and_hour(database):
    """Beyond ``declarations_per_hour`` a phone is told, next to the submit, when to send
    again; a replay of an earlier submission is never refused, another phone never held."""
    settings = dataclasses.replace(database, declarations_per_hour=2)
    account_id = await account()
    first = await declarations.submit(account_id, person_ids=[], new_persons=[
        person_input.parse_person(person_fields())], health=HEALTH, client_ref=ref(),
        settings=settings)
    person_id = first.persons[0].id
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HEALTH, client_ref=ref(), settings=settings)
    with pytest.raises(FormErrors) as caught:
        await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                                  health=HEALTH, client_ref=ref(), settings=settings)
    error = caught.value.errors["client_ref"]
    assert error.code == "declaration.rate_limited"
    assert "quá nhiều khai báo trong một giờ" in error.message("vi")
    again = await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                                      health=HEALTH, client_ref=first.client_ref,
                                      settings=settings)
    assert again.replayed
    assert await count_declarations(account_id) == 2
    other = await declarations.submit(await account(), person_ids=[], new_persons=[
        person_input.parse_person(person_fields())], health=HEALTH, client_ref=ref(),
        settings=settings)
    assert not other.replayed
