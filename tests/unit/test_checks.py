"""The officer's check: what a scan finds, the colour rules and their reasons, the audit and
the per-officer rate cap."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from citizen_factories import account, add_person, arrived_from, cccd, person_fields

from khaibao.checks import checks
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import DeclarationView, HealthData
from khaibao.core.errors import InputError
from khaibao.officers import officers
from khaibao.officers.lookups import LookupRefused
from khaibao.policies import policies
from khaibao.policies.decisions import Decision
from khaibao.policies.policy_input import PolicyInput
from khaibao.qr.tokens import TokenKind, issue_venue_code, make_token
from khaibao.regions import regions
from khaibao.tables import AuditEntry, CheckPass
from khaibao.verdicts import verdicts

NOW = datetime.now(UTC)


def declaration(*, days_ago: float = 1, symptoms: tuple[str, ...] = ()) -> DeclarationView:
    return DeclarationView(
        id=1, submitted_at=NOW - timedelta(days=days_ago), has_symptoms=bool(symptoms),
        symptoms=symptoms, exposures=(), symptom_codes=(), exposure_codes=(), channel="self",
        places_visited="")


def decision(measure: str, days: int | None = 14, text: str = "") -> Decision:
    return Decision(measure, days, text, None, None, ["x"])


@pytest.mark.parametrize(("decl", "dec", "colour"), [
    (declaration(), None, "green"),
    (declaration(), decision("none"), "green"),
    (declaration(), decision("self_monitor"), "yellow"),
    (declaration(), decision("test", None), "yellow"),
    (declaration(), decision("custom", None, "Hạn chế di chuyển"), "yellow"),
    (declaration(), decision("home"), "red"),
    (declaration(), decision("centralised"), "red"),
    (None, None, "yellow"),
    (declaration(days_ago=8), None, "yellow"),
    (declaration(symptoms=("Sốt",)), None, "red"),
    # symptoms in a declaration older than the window: stale (yellow), not red
    (declaration(days_ago=8, symptoms=("Sốt",)), None, "yellow"),
    (None, decision("home"), "red"),
])
def test_colour_rules(decl, dec, colour):
    got, reasons = verdicts.judge(decl, dec, declaration_days=7, now=NOW)
    assert got == colour
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_colour_reasons_in_words():
    colour, reasons = verdicts.judge(declaration(symptoms=("Sốt", "Ho")), decision("home", 7),
                                        declaration_days=7, now=NOW)
    assert colour == "red"
    assert "Chính sách cách ly: Cách ly tại nhà 7 ngày." in reasons
    assert "Có triệu chứng trong lần khai báo y tế gần nhất: Sốt, Ho." in reasons
    colour, reasons = verdicts.judge(None, decision("test", None), declaration_days=7, now=NOW)
    assert colour == "yellow"
    assert reasons == ["Chính sách cách ly: Xét nghiệm khi đến.", "x", "Chưa khai báo y tế."]
    _colour, reasons = verdicts.judge(declaration(days_ago=9), None, declaration_days=7,
                                         now=NOW)
    assert reasons == ["Chưa khai báo y tế trong 7 ngày qua."]
    colour, reasons = verdicts.judge(declaration(), None, declaration_days=7, now=NOW)
    assert colour == "green" and "không có triệu chứng" in reasons[0]


def test_same_name_ignores_case_and_diacritics():
    assert checks.same_name("NGUYEN VAN  AN", "Nguyễn Văn An")
    assert checks.same_name("Đặng Thị Hoa", "dang thi hoa")
    assert not checks.same_name("Nguyễn Văn Anh", "Nguyễn Văn An")


@pytest.fixture
async def person(database):
    """A person with a CCCD, declared today without symptoms."""
    settings = database
    number = cccd(1990, "female")
    account_id = await account()
    person_id = await add_person(account_id, settings, person_fields(
        full_name="Lê Thị Thu", id_number=number, birth_year="1990"), is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    view = await people.get_person(account_id, person_id, settings)
    return view, number, account_id


async def test_lookup_paths(database, person):
    settings = database
    view, number, _account = person
    by_token = await checks.lookup(view.token, settings)
    assert (by_token.kind, by_token.person.id, by_token.colour) == ("person_token", view.id,
                                                                    "green")
    assert by_token.declaration is not None and by_token.declaration_recent
    assert by_token.checkin is None and by_token.arrival is None
    lower = await checks.lookup(" " + view.token.lower() + "\r\n", settings)
    assert lower.person.id == view.id
    by_id = await checks.lookup(number, settings)
    assert (by_id.kind, by_id.person.id) == ("id_number", view.id)
    chip = f"{number}||LE THI THU|01011990|Nữ|Huế|01012021"
    by_chip = await checks.lookup(chip, settings)
    assert (by_chip.kind, by_chip.person.id, by_chip.chip_name) == ("chip_cccd", view.id,
                                                                    "LE THI THU")
    assert not by_chip.names_differ
    other = await checks.lookup(f"{number}||Trần Văn Bình|01011990|Nữ|Huế|01012021", settings)
    assert other.person.id == view.id and other.names_differ

    venue, _ref = issue_venue_code(settings.secret_key)
    assert (await checks.lookup(venue, settings)).error.code == "check.venue_code"
    misread = view.token[:-1] + ("0" if view.token[-1] != "0" else "1")
    result = await checks.lookup(misread, settings)
    assert (result.kind, result.error.code) == ("misread", "check.misread")
    assert result.error.message("vi") == "Đọc lỗi, hãy quét lại."
    unknown = make_token(TokenKind.PERSON, "0000000000", settings.secret_key)
    assert (await checks.lookup(unknown, settings)).error.code == "check.token_revoked"
    forged = make_token(TokenKind.PERSON, "0000000000", b"another-secret-key-0123456789")
    result = await checks.lookup(forged, settings)
    assert (result.kind, result.person, result.error.code) == ("forged", None, "token.forged")
    assert (await checks.lookup(cccd(), settings)).error.code == "check.not_found"
    assert (await checks.lookup("   ", settings)).kind == "empty"
    assert (await checks.lookup("000000000", settings)).person is None


async def test_revoked_token_finds_nobody(database, person):
    settings = database
    view, _number, account_id = person
    await people.reissue_qr(account_id, view.id, settings)
    result = await checks.lookup(view.token, settings)
    assert result.person is None and result.error.code == "check.token_revoked"


async def test_arrival_policy_turns_red(database, person):
    settings = database
    view, _number, account_id = person
    hanoi = [w for w in await regions.children("VN-01") if w.kind == "ward"][0]
    await arrived_from(account_id, view.id, settings, hanoi.code)
    policy = await policies.create(PolicyInput(hanoi.code, "home", 14, "",
                                               NOW - timedelta(days=3), None, "QĐ 1/UBND"),
                                   created_by=None)
    try:
        result = await checks.lookup(view.token, settings)
        assert result.colour == "red"
        assert result.arrival is not None and result.decision.measure == "home"
        assert result.reasons[0] == "Chính sách cách ly: Cách ly tại nhà 14 ngày."
        assert any("QĐ 1/UBND" in r for r in result.decision.reasons)
    finally:
        await policies.delete(policy.policy_key)
    assert (await checks.lookup(view.token, settings)).colour == "green"


async def test_check_audits_without_raw_values_and_caps_rate(database, person):
    settings = replace(database, officer_lookups_per_minute=3)
    view, number, _account = person
    officer = await officers.create("Cán bộ Giới Hạn", "checkpoint")
    for text in (view.token, number, cccd()):
        await checks.check(text, officer, settings)
    rows = await AuditEntry.select().where(AuditEntry.actor_id == officer.id).order_by(
        AuditEntry.id)
    lookups = [r for r in rows if r["action"] == "check.lookup"]
    assert [r["person"] for r in lookups] == [view.id, view.id, None]
    for row in lookups:
        assert view.token not in row["detail"] and number not in row["detail"]
        assert '"input"' in row["detail"] and '"ref"' in row["detail"]
    assert '"result": "not_found"' in lookups[2]["detail"]
    for _ in range(3):
        with pytest.raises(LookupRefused) as caught:
            await checks.check(view.token, officer, settings)
        assert caught.value.retry_after >= 1
    limited = await AuditEntry.count().where((AuditEntry.actor_id == officer.id)
                                             & (AuditEntry.action == "check.rate_limited"))
    assert limited == 1
    # another officer is not affected, and the window passes
    other = await officers.create("Cán bộ Khác", "health")
    assert (await checks.check(view.token, other, settings)).person.id == view.id
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert (await checks.check(view.token, officer, settings, now=later)).person.id == view.id


async def test_record_pass_and_citizen_view(database, person):
    settings = database
    view, _number, _account = person
    officer = await officers.create("Cán bộ Ghi Nhận", "checkpoint")
    ref = checks.pass_reference(officer.id, view.id, settings.secret_key)
    with pytest.raises(InputError):
        await checks.record_pass(officer, view.id + 1, ref, settings)
    other = await officers.create("Cán bộ Khác Hai", "checkpoint")
    with pytest.raises(InputError):
        await checks.record_pass(other, view.id, ref, settings)
    stale = checks.pass_reference(officer.id, view.id, settings.secret_key,
                                  now=NOW - timedelta(hours=1))
    with pytest.raises(InputError):
        await checks.record_pass(officer, view.id, stale, settings)
    # The citizen is told of passes recorded after a look at their QR, not by ID number.
    await checks.check(_number, officer, settings)
    unseen = await checks.record_pass(officer, view.id, ref, settings)
    assert view.id not in await checks.recent_checks([view.id])
    await CheckPass.delete().where(CheckPass.id == unseen.id)
    await checks.check(view.token, officer, settings)
    record = await checks.record_pass(officer, view.id, ref, settings)
    assert (record.colour, record.person_name) == ("green", "Lê Thị Thu")
    row = await CheckPass.select().where(CheckPass.id == record.id).first()
    assert (row["person"], row["officer"], row["colour"]) == (view.id, officer.id, "green")
    seen = (await checks.recent_checks([view.id]))[view.id]
    assert seen[0].action_label == "Ghi nhận đã kiểm tra"
    assert seen[0].role_label == "Cán bộ chốt kiểm soát"


def test_pass_reference_is_bound():
    key = b"k" * 32
    ref = checks.pass_reference(1, 2, key, now=NOW)
    assert checks.verify_pass_reference(ref, 1, 2, key, now=NOW)
    assert not checks.verify_pass_reference(ref, 1, 3, key, now=NOW)
    assert not checks.verify_pass_reference(ref, 2, 2, key, now=NOW)
    assert not checks.verify_pass_reference(ref, 1, 2, key, now=NOW + timedelta(minutes=16))
    assert not checks.verify_pass_reference("garbage", 1, 2, key, now=NOW)
    assert not checks.verify_pass_reference(ref + "0", 1, 2, key, now=NOW)
