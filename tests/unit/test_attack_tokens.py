"""Token attacks at the two places that read QR codes — the officer check and the citizen's
venue scanner: an altered, truncated, re-issued or wrong-kind code is refused, each with its
own clear message, and never shows anybody."""

from __future__ import annotations

import uuid

import pytest

from khaibao.checks import checks
from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import HealthData
from khaibao.qr import tokens
from khaibao.qr.tokens import CROCKFORD, TokenKind, check_char, make_token
from khaibao.venues import citizen_scan, venues
from tests.unit.citizen_factories import account, add_person, person_fields


@pytest.fixture
async def person(database):
    settings = database
    account_id = await account()
    person_id = await add_person(account_id, settings, person_fields(full_name="Mai Thị Mã"),
                                 is_owner=True)
    await declarations.submit(account_id, person_ids=[person_id], new_persons=[],
                              health=HealthData("", (), (), True), client_ref=uuid.uuid4().hex,
                              settings=settings)
    return account_id, await people.get_person(account_id, person_id, settings)


def altered(token: str) -> str:
    """One character of the reference changed and the check character recomputed, as an
    attacker who knows the format (but not the key) would do."""
    i = 5
    swapped = CROCKFORD[(CROCKFORD.index(token[i]) + 1) % len(CROCKFORD)]
    body = token[:i] + swapped + token[i + 1:-1]
    return body + check_char(body)


async def _officer_message(text: str, settings) -> checks.CheckResult:
    result = await checks.lookup(text, settings)
    assert result.person is None, text
    assert result.error is not None
    return result


async def test_genuine_token_finds_the_person(database, person):
    _account, view = person
    result = await checks.lookup(view.token, database)
    assert result.person is not None and result.person.full_name == "Mai Thị Mã"


async def test_truncated_token_is_a_misread(database, person):
    _account, view = person
    for cut in (view.token[:-1], view.token[:20], view.token[:4]):
        result = await _officer_message(cut, database)
        assert result.error.message("vi") == "Đọc lỗi, hãy quét lại.", cut


async def test_altered_token_is_refused_at_the_verifier(database, person):
    _account, view = person
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify(altered(view.token), database.secret_key)
    assert caught.value.code == "token.forged"
    assert (await checks.lookup(altered(view.token), database)).person is None


async def test_altered_token_tells_the_officer_it_was_altered(database, person):
    _account, view = person
    result = await _officer_message(altered(view.token), database)
    assert result.error.message("vi") == "Mã QR không hợp lệ hoặc đã bị sửa."


async def test_reissued_token_no_longer_finds_anybody(database, person):
    account_id, view = person
    new = await people.reissue_qr(account_id, view.id, database)
    assert new.token != view.token
    assert (await checks.lookup(view.token, database)).person is None
    assert (await checks.lookup(new.token, database)).person is not None


async def test_reissued_token_has_its_own_message(database, person):
    account_id, view = person
    await people.reissue_qr(account_id, view.id, database)
    result = await _officer_message(view.token, database)
    assert result.error.code not in ("check.not_found", "check.misread")


async def test_venue_code_where_a_person_is_expected(database):
    code, _reference = tokens.issue_venue_code(database.secret_key)
    result = await _officer_message(code, database)
    assert result.error.message("vi") == "Đây là mã QR điểm đến, không phải mã cá nhân."


async def test_person_token_where_a_venue_is_expected(database, person):
    _account, view = person
    outcome = await citizen_scan.resolve(view.token, database)
    assert outcome.path is None
    assert outcome.error.message("vi") == "Đây là mã QR cá nhân, không phải mã điểm đến."
    # and a person token in a venue URL shows no venue
    assert await venues.by_code(view.token, database) is None


async def test_venue_scanner_messages_for_altered_and_truncated_codes(database):
    code = make_token(TokenKind.VENUE, "0" * tokens.REFERENCE_LENGTH, database.secret_key)
    forged = (await citizen_scan.resolve(altered(code), database)).error
    misread = (await citizen_scan.resolve(code[:-3], database)).error
    retired = (await citizen_scan.resolve(code, database)).error  # genuine, no such venue
    assert forged.code == "token.forged"
    assert misread.code == "token.misread"
    assert retired.code == "scan.venue_retired"
    assert len({forged.message("vi"), misread.message("vi"), retired.message("vi")}) == 3


def test_expired_live_token_has_its_own_message():
    key = b"k" * 32
    reference = tokens.new_device_reference()
    step = tokens.live_step(1_000_000.0)
    token = tokens.issue_live_token(reference, key, step)
    assert tokens.verify_live(token, lambda _r: key, 1_000_000.0).reference == reference
    with pytest.raises(tokens.TokenError) as old:
        tokens.verify_live(token, lambda _r: key, 1_000_000.0 + 120)
    assert old.value.message("vi") == "Mã đã hết hạn — mở lại ứng dụng."
    with pytest.raises(tokens.TokenError) as revoked:  # device key revoked
        tokens.verify_live(token, lambda _r: None, 1_000_000.0)
    assert revoked.value.code == "token.forged"
    with pytest.raises(tokens.TokenError) as wrong_kind:
        tokens.verify_live(make_token(TokenKind.PERSON, "0" * 10, key), lambda _r: key, 0)
    assert wrong_kind.value.code == "token.unknown_kind"
