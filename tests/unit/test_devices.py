"""Live-QR device keys: register, check a live token, revoke (devices.py, checks.lookup)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from citizen_factories import account, add_person, person_fields

from khaibao.checks import checks
from khaibao.citizens import people
from khaibao.core import crypto
from khaibao.qr import devices
from khaibao.qr.tokens import TokenError, issue_live_token, live_step
from khaibao.tables import DeviceKey


def raw_key(new: devices.NewDeviceKey) -> bytes:
    return base64.urlsafe_b64decode(new.key + "=" * (-len(new.key) % 4))


@pytest.fixture
async def owner(database):
    account_id = await account()
    person_id = await add_person(account_id, database, person_fields(), is_owner=True)
    return account_id, person_id


async def test_register_stores_the_key_encrypted_only(database, owner):
    account_id, person_id = owner
    new = await devices.register(account_id, person_id, database, label="Android · Chrome")
    assert len(raw_key(new)) == 32 and len(new.reference) == 10
    row = await DeviceKey.select().where(DeviceKey.reference == new.reference).first()
    assert row["person"] == person_id and row["account"] == account_id
    assert new.key not in row["key_encrypted"]
    assert crypto.decrypt(row["key_encrypted"], database.secret_key, devices.PURPOSE) == new.key
    listed = await devices.list_for_account(account_id)
    assert [(d.reference, d.label) for d in listed] == [(new.reference, "Android · Chrome")]


async def test_someone_elses_person_cannot_get_a_key(database, owner):
    _account_id, person_id = owner
    with pytest.raises(devices.DeviceNotFound):
        await devices.register(await account(), person_id, database)


async def test_live_token_finds_the_person_and_expires(database, owner):
    account_id, person_id = owner
    new = await devices.register(account_id, person_id, database)
    now = datetime.now(UTC)
    fresh = issue_live_token(new.reference, raw_key(new), live_step(now.timestamp()))
    found = await people.find_by_live_token(fresh, database, now=now)
    assert found is not None and found.id == person_id
    old = issue_live_token(new.reference, raw_key(new),
                           live_step((now - timedelta(seconds=40)).timestamp()))
    with pytest.raises(TokenError) as info:
        await people.find_by_live_token(old, database, now=now)
    assert info.value.code == "token.expired"
    row = await DeviceKey.select(DeviceKey.last_seen_at).where(
        DeviceKey.reference == new.reference).first()
    assert row["last_seen_at"] is not None


async def test_officer_check_answers_expired_and_accepts_fresh(database, owner):
    account_id, person_id = owner
    new = await devices.register(account_id, person_id, database)
    now = datetime.now(UTC).timestamp()
    old = issue_live_token(new.reference, raw_key(new), live_step(now - 45))
    refused = await checks.lookup(old, database)
    assert refused.person is None and refused.error.code == "token.expired"
    assert refused.error.message("vi") == "Mã đã hết hạn — mở lại ứng dụng."
    fresh = issue_live_token(new.reference, raw_key(new), live_step(now))
    accepted = await checks.lookup(fresh, database)
    assert accepted.error is None and accepted.person.id == person_id
    assert accepted.kind == "live_token"
    forged = issue_live_token(new.reference, b"x" * 32, live_step(now))
    assert (await checks.lookup(forged, database)).error.code == "check.not_found"


async def test_revoked_keys_stop_working(database, owner):
    account_id, person_id = owner
    first = await devices.register(account_id, person_id, database)
    second = await devices.register(account_id, person_id, database)
    step = live_step(datetime.now(UTC).timestamp())
    token_1 = issue_live_token(first.reference, raw_key(first), step)
    token_2 = issue_live_token(second.reference, raw_key(second), step)
    listed = {d.reference: d.id for d in await devices.list_for_account(account_id)}
    await devices.revoke(account_id, listed[first.reference])
    assert await people.find_by_live_token(token_1, database) is None
    assert (await people.find_by_live_token(token_2, database)).id == person_id
    with pytest.raises(devices.DeviceNotFound):  # another account cannot revoke
        await devices.revoke(await account(), listed[second.reference])
    # sign-out on the phone: revoke the references it holds, only this account's
    assert await devices.revoke_references(await account(), [second.reference]) == 0
    assert await devices.revoke_references(account_id, [second.reference, "junk"]) == 1
    assert await people.find_by_live_token(token_2, database) is None
    assert await devices.list_for_account(account_id) == []


async def test_only_the_newest_keys_of_a_person_stay_valid(database, owner):
    account_id, person_id = owner
    for _ in range(devices.MAX_KEYS_PER_PERSON + 2):
        await devices.register(account_id, person_id, database)
    assert len(await devices.list_for_account(account_id)) == devices.MAX_KEYS_PER_PERSON


async def test_the_venue_scanner_checks_in_a_live_qr_and_refuses_a_stale_one(database, owner):
    from khaibao.officers import officers
    from khaibao.venues import staff_checkin, venues

    account_id, person_id = owner
    staff = await officers.create("Nhân viên Siêu thị", "venue")
    new = await devices.register(account_id, person_id, database)
    venue = await venues.create(venues.parse_venue({"name": "Siêu thị Co.op", "kind": "shop"}),
                                database)
    now = datetime.now(UTC)
    fresh = issue_live_token(new.reference, raw_key(new), live_step(now.timestamp()))
    result = await staff_checkin.scan(venue, fresh, staff, database, now=now)
    assert result.checked_in and result.person.id == person_id
    stale = issue_live_token(new.reference, raw_key(new),
                             live_step((now - timedelta(seconds=45)).timestamp()))
    refused = await staff_checkin.scan(venue, stale, staff, database, now=now)
    assert not refused.checked_in and refused.colour == "red"
    assert "hết hạn" in refused.headline
