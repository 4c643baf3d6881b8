"""WebAuthn attacks over HTTP (the service-level negatives live in test_passkeys.py): a
replayed assertion or registration, an expired challenge, a wrong origin or RP ID, user
verification off and a cloned authenticator each get no session."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from khaibao.tables import AuditEntry, WebAuthnChallenge
from tests.helpers import csrf_headers
from tests.http.test_officer_auth import COOKIE, enroll
from tests.soft_authenticator import SoftAuthenticator


async def _options(client) -> tuple[dict, dict]:
    client.cookies.delete(COOKIE)
    page = await client.get("/can-bo/dang-nhap", follow_redirects=True)  # signed in: on
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    options = await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)
    assert options.status_code == 200
    return headers, options.json()


async def _verify(client, headers, body) -> tuple[int, dict, str | None]:
    response = await client.post("/can-bo/dang-nhap/xac-minh", headers=headers,
                                 content=json.dumps(body))
    cookie = response.cookies.get(COOKIE)
    return response.status_code, response.json(), cookie


async def _refused(client, headers, body) -> dict:
    status, answer, cookie = await _verify(client, headers, body)
    assert status == 400, answer
    assert cookie is None
    assert (await client.get("/can-bo/passkey")).status_code == 401
    return answer


async def test_replayed_assertion_is_refused(client):
    _officer, _token, device, _ = await enroll(client, name="Nguyễn Phát Lại")
    headers, options = await _options(client)
    body = device.get(options)
    status, _answer, cookie = await _verify(client, headers, body)
    assert status == 200 and cookie
    client.cookies.delete(COOKIE)
    answer = await _refused(client, headers, body)  # the exact same assertion again
    assert answer["error"]


async def test_replayed_registration_is_refused(client):
    officer, token, device, first = await enroll(client, name="Lê Đăng Ký Lại")
    assert first.status_code == 200
    page = await client.get(f"/can-bo/dang-ky/{token}")
    assert page.status_code in (200, 404, 410)
    sign_in_page = (await client.get("/can-bo/dang-nhap", follow_redirects=True)).text
    replay = await client.post(f"/can-bo/dang-ky/{token}/xac-minh",
                               headers={"content-type": "application/json",
                                        **csrf_headers(sign_in_page)},
                               content=json.dumps({**device.create(
                                   {"challenge": "AAAA", "user": {"id": "AAAA"}}), "name": "x"}))
    assert replay.status_code in (400, 404, 410)


async def test_expired_challenge_is_refused(client):
    _officer, _token, device, _ = await enroll(client, name="Trần Hết Hạn")
    headers, options = await _options(client)
    await WebAuthnChallenge.update(
        {WebAuthnChallenge.expires_at: datetime.now(UTC) - timedelta(seconds=1)}, force=True).run()
    await _refused(client, headers, device.get(options))


async def test_wrong_origin_and_wrong_rp_id_are_refused(client):
    _officer, _token, device, _ = await enroll(client, name="Phạm Sai Nguồn")
    device.origin = "http://localhost.evil.example:8000"
    headers, options = await _options(client)
    await _refused(client, headers, device.get(options))
    device.origin, device.rp_id = "http://localhost:8000", "evil.example"
    headers, options = await _options(client)
    await _refused(client, headers, device.get(options))


async def test_user_verification_off_is_refused(client):
    _officer, _token, device, _ = await enroll(client, name="Võ Không Xác Minh")
    device.user_verified = False
    headers, options = await _options(client)
    answer = await _refused(client, headers, device.get(options))
    assert answer.get("code") == "passkey.not_verified"


async def test_cloned_authenticator_is_refused_and_audited(client):
    officer, _token, device, _ = await enroll(client, name="Đỗ Nhân Bản")
    for _ in range(2):
        headers, options = await _options(client)
        assert (await _verify(client, headers, device.get(options)))[0] == 200
    clone = SoftAuthenticator()
    clone.key, clone.credential_id, clone.user_handle = (device.key, device.credential_id,
                                                         device.user_handle)
    clone.sign_count = 0  # the copy's counter lags behind the original's
    headers, options = await _options(client)
    answer = await _refused(client, headers, clone.get(options))
    assert answer.get("code") == "passkey.clone"
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "passkey.clone_suspected") & (AuditEntry.actor_id == officer.id))
