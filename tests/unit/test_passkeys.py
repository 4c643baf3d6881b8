"""Passkey service: challenges, registration, sign-in, the counter rule, my passkeys."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.core.errors import InputError
from khaibao.officers import enrollments, officer_passkeys, officers, passkeys
from khaibao.tables import AuditEntry, EnrollmentLink, Passkey, WebAuthnChallenge
from tests.soft_authenticator import SoftAuthenticator


async def new_officer(role: str = "checkpoint") -> officers.OfficerView:
    return await officers.create("Lê Văn Cường", role)


async def enrolled(settings, role: str = "checkpoint"):
    officer = await new_officer(role)
    device = SoftAuthenticator()
    options = await passkeys.registration_options(settings, officer)
    await passkeys.finish_registration(settings, officer, device.create(options), name="Máy A")
    return officer, device


async def sign_in(settings, device: SoftAuthenticator):
    options = await passkeys.authentication_options(settings)
    return await passkeys.finish_sign_in(settings, device.get(options))


def test_rp_id_and_origin_come_from_base_url(settings):
    other = dataclasses.replace(settings, base_url="https://khaibao.hue.gov.vn")
    assert passkeys.rp_id(other) == "khaibao.hue.gov.vn"
    assert passkeys.expected_origin(other) == "https://khaibao.hue.gov.vn"


async def test_registration_options_require_uv_resident_key_and_exclude_existing(database):
    settings = database
    officer, device = await enrolled(settings)
    options = json.loads(await passkeys.registration_options(settings, officer))
    assert options["rp"] == {"id": "localhost", "name": "Khai Báo"}
    selection = options["authenticatorSelection"]
    assert selection["userVerification"] == "required"
    assert selection["residentKey"] == "required"
    assert [c["id"] for c in options["excludeCredentials"]] == [
        passkeys.b64url(device.credential_id)]
    # the user id is the random handle, never the name
    assert passkeys.from_b64url(options["user"]["id"]).decode() == await officers.user_handle(
        officer.id)


async def test_authentication_options_require_uv(database):
    options = json.loads(await passkeys.authentication_options(database))
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert options.get("allowCredentials", []) == []


async def test_challenge_is_stored_hashed_and_single_use(database):
    settings = database
    officer, device = await enrolled(settings)
    options = json.loads(await passkeys.authentication_options(settings))
    raw = passkeys.from_b64url(options["challenge"])
    stored = await WebAuthnChallenge.select(WebAuthnChallenge.challenge_hash)
    assert all(r["challenge_hash"] != options["challenge"] for r in stored)
    response = device.get(options)
    assert (await passkeys.finish_sign_in(settings, response)).id == officer.id
    assert passkeys._challenge_hash(raw) not in [
        r["challenge_hash"] for r in await WebAuthnChallenge.select()]
    with pytest.raises(InputError) as caught:
        await passkeys.finish_sign_in(settings, response)
    assert caught.value.code == "passkey.expired"


async def test_challenge_is_gone_even_when_verification_fails(database):
    settings = database
    _officer, device = await enrolled(settings)
    options = await passkeys.authentication_options(settings)
    response = device.get(options)
    response["response"]["signature"] = passkeys.b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    with pytest.raises(InputError) as first:
        await passkeys.finish_sign_in(settings, response)
    assert first.value.code == "passkey.invalid"
    with pytest.raises(InputError) as second:
        await passkeys.finish_sign_in(settings, device.get(options))
    assert second.value.code == "passkey.expired"


async def test_expired_challenge_is_refused(database):
    settings = database
    _officer, device = await enrolled(settings)
    past = datetime.now(UTC) - timedelta(minutes=6)
    options = await passkeys.authentication_options(settings, now=past)
    with pytest.raises(InputError) as caught:
        await passkeys.finish_sign_in(settings, device.get(options))
    assert caught.value.code == "passkey.expired"
    assert "hết hạn" in caught.value.message("vi")


async def test_purpose_mismatch_is_refused(database):
    settings = database
    officer, device = await enrolled(settings)
    # a registration challenge answered as a sign-in
    options = await passkeys.registration_options(settings, officer)
    with pytest.raises(InputError) as caught:
        await passkeys.finish_sign_in(settings, device.get(options))
    assert caught.value.code == "passkey.mismatch"
    # a registration challenge issued for someone else
    other = await new_officer()
    options = await passkeys.registration_options(settings, other)
    with pytest.raises(InputError) as caught:
        await passkeys.finish_registration(settings, officer, SoftAuthenticator().create(options))
    assert caught.value.code == "passkey.mismatch"


async def test_registration_stores_key_and_audits(database):
    settings = database
    officer, device = await enrolled(settings)
    row = await Passkey.select().where(Passkey.officer == officer.id).first()
    assert row["credential_id"] == passkeys.b64url(device.credential_id)
    assert row["name"] == "Máy A" and row["transports"] == "internal"
    assert row["sign_count"] == 0 and row["public_key"]
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "passkey.add") & (AuditEntry.actor_id == officer.id))


def test_clone_rule():
    assert not passkeys.is_clone(0, 0)
    assert not passkeys.is_clone(0, 5)
    assert not passkeys.is_clone(3, 4)
    assert passkeys.is_clone(3, 3)
    assert passkeys.is_clone(3, 1)
    assert passkeys.is_clone(3, 0)


async def test_sign_in_updates_count_and_refuses_a_clone(database):
    settings = database
    officer, device = await enrolled(settings)
    await sign_in(settings, device)
    await sign_in(settings, device)
    row = await Passkey.select().where(Passkey.officer == officer.id).first()
    assert row["sign_count"] == 2 and row["last_used_at"] is not None
    device.sign_count = 0  # the copy's counter lags behind: next use reports 1
    with pytest.raises(InputError) as caught:
        await sign_in(settings, device)
    assert caught.value.code == "passkey.clone"
    entry = await AuditEntry.select().where(
        (AuditEntry.action == "passkey.clone_suspected") & (AuditEntry.actor_id == officer.id)
    ).first()
    assert json.loads(entry["detail"])["new_count"] == 1
    row = await Passkey.select().where(Passkey.officer == officer.id).first()
    assert row["sign_count"] == 2


async def test_zero_counter_authenticators_are_fine(database):
    settings = database
    officer, device = await enrolled(settings)
    device.count_up = False
    assert (await sign_in(settings, device)).id == officer.id
    assert (await sign_in(settings, device)).id == officer.id


async def test_user_verification_required(database):
    settings = database
    _officer, device = await enrolled(settings)
    device.user_verified = False
    with pytest.raises(InputError) as caught:
        await sign_in(settings, device)
    assert caught.value.code == "passkey.not_verified"


async def test_wrong_origin_or_rp_is_refused(database):
    settings = database
    _officer, device = await enrolled(settings)
    device.origin = "http://localhost.evil.example:8000"
    with pytest.raises(InputError) as caught:
        await sign_in(settings, device)
    assert caught.value.code == "passkey.invalid"
    device.origin, device.rp_id = "http://localhost:8000", "evil.example"
    with pytest.raises(InputError):
        await sign_in(settings, device)


async def test_unknown_and_disabled(database):
    settings = database
    with pytest.raises(InputError) as caught:
        await sign_in(settings, SoftAuthenticator())
    assert caught.value.code == "passkey.unknown"
    officer, device = await enrolled(settings)
    await officers.set_active(officer.id, False)
    with pytest.raises(InputError) as caught:
        await sign_in(settings, device)
    assert caught.value.code == "passkey.disabled"


async def test_enrollment_link_is_used_once(database):
    settings = database
    officer = await new_officer()
    token = await enrollments.issue_enrollment(officer.id)
    link = await enrollments.find_enrollment(token)
    options = await passkeys.registration_options(settings, officer,
                                                  enrollment_link_id=link.link_id)
    signed_in = await passkeys.complete_enrollment(settings, token,
                                                   SoftAuthenticator().create(options))
    assert signed_in.id == officer.id
    assert await enrollments.find_enrollment(token) is None
    used = await EnrollmentLink.select(EnrollmentLink.used_at).where(
        EnrollmentLink.id == link.link_id).first()
    assert used["used_at"] is not None
    with pytest.raises(InputError) as caught:
        await passkeys.complete_enrollment(settings, token, SoftAuthenticator().create(options))
    assert caught.value.code == "passkey.link_invalid"
    assert (await officers.get(officer.id)).last_sign_in_at is not None


async def test_rename_and_revoke_not_the_last(database):
    settings = database
    officer, device = await enrolled(settings)
    [first] = await officer_passkeys.list_for(officer.id)
    with pytest.raises(InputError) as caught:
        await officer_passkeys.revoke(officer.id, first.id)
    assert caught.value.code == "passkey.last"
    options = await passkeys.registration_options(settings, officer)
    await passkeys.finish_registration(settings, officer, SoftAuthenticator().create(options))
    items = await officer_passkeys.list_for(officer.id)
    assert len(items) == 2 and items[1].name.startswith("Passkey ")
    renamed = await officer_passkeys.rename(officer.id, first.id, "  Điện thoại   công vụ ")
    assert renamed.name == "Điện thoại công vụ"
    with pytest.raises(InputError):
        await officer_passkeys.rename(officer.id, first.id, "x" * 61)
    other = await new_officer()
    with pytest.raises(InputError) as caught:
        await officer_passkeys.revoke(other.id, first.id)
    assert caught.value.code == "passkey.not_found"
    await officer_passkeys.revoke(officer.id, first.id)
    assert [p.id for p in await officer_passkeys.list_for(officer.id)] == [items[1].id]
    with pytest.raises(InputError) as caught:
        await sign_in(settings, device)
    assert caught.value.code == "passkey.unknown"
