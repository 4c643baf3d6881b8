"""One verdict for a person at a moment: every input counts (exposures, venue stays under
point policies, the chip card's name), the precedence a health official would sign, and every
reason names its source. Each test here is a defect found when the same person got different
or silent answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.checks import checks
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.policies import decisions, policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.verdicts import verdicts
from tests.unit import citizen_factories as make
from tests.unit.test_tracing import stayed_under_point_policy


async def declared(settings, *, exposures: tuple[str, ...] = (), symptoms: tuple[str, ...] = (),
                   full_name: str = "Lê Thị Thu"):
    """A person with a CCCD who declared their health just now."""
    number = make.cccd(1990, "female")
    account_id = await make.account()
    person_id = await make.add_person(account_id, settings, make.person_fields(
        full_name=full_name, id_number=number, birth_year="1990"), is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", symptoms, exposures, True),
                              client_ref=uuid.uuid4().hex, settings=settings)
    return await people.get_person(account_id, person_id, settings), number, account_id


@pytest.mark.parametrize(("exposure", "colour"), [
    ("confirmed_case", "red"), ("from_area", "yellow"), ("symptomatic", "yellow")])
async def test_a_declared_contact_is_never_green_and_is_named(database, exposure, colour):
    view, _number, _account = await declared(database, exposures=(exposure,))
    result = await checks.lookup(view.token, database)
    assert result.colour == colour
    label = dict(declarations.EXPOSURES)[exposure]
    assert any(label in reason for reason in result.reasons), result.reasons


async def test_a_different_name_on_the_chip_card_is_not_green(database):
    view, number, _account = await declared(database)
    chip = f"{number}||TRAN VAN BINH|01011990|Nữ|Huế|01012021"
    result = await checks.lookup(chip, database)
    assert result.names_differ and result.colour == "yellow"
    assert any("TRAN VAN BINH" in reason for reason in result.reasons), result.reasons
    same = await checks.lookup(f"{number}||LE THI THU|01011990|Nữ|Huế|01012021", database)
    assert same.colour == "green"


async def test_at_equal_kind_the_longer_measure_wins_and_the_other_also_applies(database):
    """Province 21 days and ward 14 days, both centralised: 21 days, whichever is more
    specific; the 14 days is listed as also applying, never as lighter."""
    view, _number, account_id = await declared(database)
    hanoi = [w for w in await regions.children("VN-01") if w.kind == "ward"][1]
    await make.arrived_from(account_id, view.id, database, hanoi.code)
    start = datetime.now(UTC) - timedelta(days=3)
    wide = await policies.create(PolicyInput("VN-01", "centralised", 21, "", start, None,
                                             "CV 21/UBND"), created_by=None)
    narrow = await policies.create(PolicyInput(hanoi.code, "centralised", 14, "", start, None,
                                               "CV 14/UBND"), created_by=None)
    try:
        result = await checks.lookup(view.token, database)
        assert result.colour == "red"
        assert (result.decision.measure, result.decision.days) == ("centralised", 21)
        text = " ".join(result.reasons)
        assert "Cách ly tập trung 21 ngày" in text and "CV 21/UBND" in text
        assert "nhẹ hơn" not in text
        also = [r for r in result.reasons if r.startswith("Cũng áp dụng")]
        assert len(also) == 1 and "Cách ly tập trung 14 ngày" in also[0]
    finally:
        await policies.delete(wide.policy_key)
        await policies.delete(narrow.policy_key)


async def test_a_point_policy_names_the_venue_and_window_without_any_arrival(database):
    settings = database
    view, _number, _account = await declared(settings)
    made = await stayed_under_point_policy(settings, view.id, "Chợ Bến Ngự", "QĐ 7/SYT")
    try:
        result = await checks.lookup(view.token, settings)
        assert result.arrival is None and result.colour == "red"
        text = " ".join(result.reasons)
        assert "Chợ Bến Ngự" in text and "Khung giờ" in text and "QĐ 7/SYT" in text
    finally:
        await policies.delete(made.policy.policy_key)


def test_the_rules_table():
    """The pure rules: inputs → colour, in the order the README's table gives them."""
    now = datetime.now(UTC)

    def decl(*, days_ago=1.0, symptoms=(), exposures=()):
        return declarations.DeclarationView(
            id=1, submitted_at=now - timedelta(days=days_ago), has_symptoms=bool(symptoms),
            symptoms=symptoms, exposures=tuple(dict(declarations.EXPOSURES)[e]
                                               for e in exposures),
            symptom_codes=(), exposure_codes=exposures, channel="self", places_visited="")

    def measure(kind, days=14):
        return decisions.Decision(kind, days, "", None, None, [])

    def colour(*args, **kwargs):
        return verdicts.judge(*args, declaration_days=7, now=now, **kwargs)[0]

    assert colour(decl(), None) == "green"
    assert colour(decl(), measure("none")) == "green"
    assert colour(decl(), measure("test", None)) == "yellow"
    assert colour(decl(), measure("home")) == "red"
    assert colour(decl(symptoms=("Sốt",)), None) == "red"
    assert colour(decl(exposures=("confirmed_case",)), None) == "red"
    assert colour(decl(exposures=("from_area",)), None) == "yellow"
    assert colour(decl(days_ago=8, exposures=("confirmed_case",)), None) == "yellow"  # stale
    assert colour(None, None) == "yellow"
    assert colour(decl(), None, names_differ=True) == "yellow"
    assert colour(decl(), measure("centralised"), names_differ=True) == "red"
