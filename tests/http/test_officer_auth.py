"""Officer passkeys over HTTP, with a software authenticator standing in for the browser."""

import json
from datetime import UTC, datetime, timedelta

from khaibao.core import sessions
from khaibao.officers import enrollments, officers
from khaibao.tables import AuditEntry, Passkey
from tests.helpers import csrf_from, csrf_headers, sign_in_officer
from tests.soft_authenticator import SoftAuthenticator

COOKIE = "khaibao_officer"


async def enroll(client, role: str = "admin", name: str = "Trần Thị Bình"):
    """Create an officer, open their enrollment link and create a passkey like the browser."""
    officer = await officers.create(name, role)
    token = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{token}")
    assert page.status_code == 200
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    options = await client.post(f"/can-bo/dang-ky/{token}/tuy-chon", headers=headers)
    assert options.status_code == 200, options.text
    device = SoftAuthenticator()
    body = {**device.create(options.json()), "name": "Điện thoại công vụ"}
    result = await client.post(f"/can-bo/dang-ky/{token}/xac-minh", headers=headers,
                               content=json.dumps(body))
    return officer, token, device, result


async def passkey_sign_in(client, device, next_path: str = ""):
    # Signed in already (just enrolled): the sign-in page sends on to a page with the token.
    page = await client.get("/can-bo/dang-nhap", follow_redirects=True)
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    options = await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)
    assert options.status_code == 200
    query = f"?tiep={next_path}" if next_path else ""
    return await client.post(f"/can-bo/dang-nhap/xac-minh{query}", headers=headers,
                             content=json.dumps(device.get(options.json())))


async def test_enrollment_page_shows_officer_and_button(client):
    officer = await officers.create("Nguyễn Thị Hoa", "health")
    token = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{token}")
    assert page.status_code == 200
    assert "Nguyễn Thị Hoa" in page.text and "Cán bộ cơ sở y tế" in page.text
    assert "Tạo passkey" in page.text and "<script>" not in page.text


async def test_enrollment_creates_passkey_and_signs_in(client):
    officer, token, device, result = await enroll(client)
    assert result.status_code == 200, result.text
    assert result.json() == {"redirect": "/quan-tri/tong-quan"}  # an admin's home
    assert result.cookies.get(COOKIE)
    stored = await Passkey.select().where(Passkey.officer == officer.id)
    assert [p["name"] for p in stored] == ["Điện thoại công vụ"]
    page = await client.get("/can-bo/passkey")
    assert page.status_code == 200
    assert "Điện thoại công vụ" in page.text and "Trần Thị Bình" in page.text
    # the link is spent now
    again = await client.get(f"/can-bo/dang-ky/{token}")
    assert again.status_code == 404
    assert "Liên kết không hợp lệ hoặc đã hết hạn" in again.text


async def test_venue_staff_without_a_venue_land_on_the_venue_list(client):
    _officer, _token, _device, result = await enroll(client, role="venue")
    assert result.json() == {"redirect": "/quan-tri/diem-den"}


async def test_invalid_revoked_and_expired_links(client):
    missing = await client.get("/can-bo/dang-ky/khong-ton-tai")
    assert missing.status_code == 404
    assert "Liên kết không hợp lệ hoặc đã hết hạn" in missing.text
    officer = await officers.create("Phạm Văn Đức", "checkpoint")
    old = await enrollments.issue_enrollment(officer.id)
    await enrollments.issue_enrollment(officer.id)  # the newer link revokes the old one
    assert (await client.get(f"/can-bo/dang-ky/{old}")).status_code == 404
    past = datetime.now(UTC) - timedelta(hours=25)
    expired = await enrollments.issue_enrollment(officer.id, now=past)
    assert (await client.get(f"/can-bo/dang-ky/{expired}")).status_code == 404


async def test_options_need_a_valid_link_and_csrf(client):
    officer = await officers.create("Võ Thị Giang", "checkpoint")
    token = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{token}")
    no_csrf = await client.post(f"/can-bo/dang-ky/{token}/tuy-chon")
    assert no_csrf.status_code == 403
    bad = await client.post("/can-bo/dang-ky/sai-lien-ket/tuy-chon",
                            headers=csrf_headers(page.text))
    assert bad.status_code == 400
    assert bad.json()["error"] == "Liên kết không hợp lệ hoặc đã hết hạn."
    assert (await client.post("/can-bo/dang-nhap/tuy-chon")).status_code == 403


async def test_sign_in_rotates_session_and_audits(client):
    officer, _token, device, enrolled = await enroll(client)
    first = enrolled.cookies.get(COOKIE)
    response = await passkey_sign_in(client, device, next_path="/quan-tri/can-bo")
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/quan-tri/can-bo"}
    second = response.cookies.get(COOKIE)
    assert second and second != first
    assert await sessions.load(first) is None  # the old id no longer works
    assert (await sessions.load(second)).subject_id == officer.id
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "officer.sign_in") & (AuditEntry.actor_id == officer.id))


async def test_sign_in_ignores_a_foreign_next(client):
    _officer, _token, device, _ = await enroll(client)
    response = await passkey_sign_in(client, device, next_path="//evil.example/x")
    assert response.json() == {"redirect": "/quan-tri/tong-quan"}


async def test_sign_in_errors_are_clear(client):
    response = await passkey_sign_in(client, SoftAuthenticator())
    assert response.status_code == 400
    assert "chưa được đăng ký" in response.json()["error"]
    assert not response.cookies.get(COOKIE)


async def test_wrong_origin_is_refused(client):
    _officer, _token, device, _ = await enroll(client)
    client.cookies.delete(COOKIE)
    device.origin = "http://127.0.0.1:8000"
    response = await passkey_sign_in(client, device)
    assert response.status_code == 400
    assert response.json()["code"] == "passkey.invalid"
    assert (await client.get("/can-bo/passkey")).status_code == 401


async def test_sign_out_ends_the_session(client):
    _officer, _token, _device, result = await enroll(client)
    raw = result.cookies.get(COOKIE)
    page = await client.get("/can-bo/passkey")
    response = await client.post("/can-bo/dang-xuat", data={"_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/can-bo/dang-nhap"
    assert await sessions.load(raw) is None
    client.cookies.set(COOKIE, raw)  # even a kept copy of the cookie is dead
    denied = await client.get("/can-bo/passkey")
    assert denied.status_code == 401
    assert "Đăng nhập bằng passkey" in denied.text


async def test_disabled_officer_is_refused(client):
    officer, _token, device, _ = await enroll(client, role="checkpoint")
    await officers.set_active(officer.id, False)
    assert (await client.get("/can-bo/passkey")).status_code == 401
    response = await passkey_sign_in(client, device)
    assert response.status_code == 400
    assert "đã bị khoá" in response.json()["error"]


async def test_disabled_officer_session_cookie_is_refused(client):
    officer = await sign_in_officer(client, "health")
    assert (await client.get("/can-bo/passkey")).status_code == 200
    await officers.set_active(officer.id, False)
    assert (await client.get("/can-bo/passkey")).status_code == 401


async def test_sign_in_page_has_autofill_and_next(client):
    page = await client.get("/can-bo/dang-nhap?tiep=/kiemtra/quet")
    assert page.status_code == 200
    assert 'autocomplete="username webauthn"' in page.text
    assert "/can-bo/dang-nhap/xac-minh?tiep=/kiemtra/quet" in page.text
    assert 'role="alert" data-passkey-alert' in page.text


async def test_rename_and_revoke_over_htmx(client):
    officer, _token, _device, _ = await enroll(client, role="checkpoint")
    page = await client.get("/can-bo/passkey")
    headers = csrf_headers(page.text, htmx=True)
    [passkey] = await Passkey.select(Passkey.id).where(Passkey.officer == officer.id)
    pid = passkey["id"]
    too_long = await client.post(f"/can-bo/passkey/{pid}/doi-ten", headers=headers,
                                 data={"name": "x" * 61})
    assert too_long.status_code == 422
    assert "Tên passkey dài từ 1 đến 60 ký tự." in too_long.text
    renamed = await client.post(f"/can-bo/passkey/{pid}/doi-ten", headers=headers,
                                data={"name": "Máy tính bảng chốt"})
    assert renamed.status_code == 200 and "Máy tính bảng chốt" in renamed.text
    assert "<html" not in renamed.text  # a fragment
    last = await client.post(f"/can-bo/passkey/{pid}/thu-hoi", headers=headers)
    assert last.status_code == 422 and "passkey cuối cùng" in last.text
    assert await Passkey.exists().where(Passkey.id == pid)
    # add a second passkey while signed in, then the first may go
    json_headers = {"x-csrftoken": headers["x-csrftoken"], "content-type": "application/json"}
    options = await client.post("/can-bo/passkey/them/tuy-chon", headers=json_headers)
    assert len(options.json()["excludeCredentials"]) == 1
    added = await client.post("/can-bo/passkey/them/xac-minh", headers=json_headers,
                              content=json.dumps(SoftAuthenticator().create(options.json())))
    assert added.json() == {"redirect": "/can-bo/passkey"}
    # the lost phone's session (opened with that passkey) is still signed in
    lost_phone = await officers.start_session(officer.id)
    cookie_name = next(c.name for c in client.cookies.jar if c.name.endswith("officer"))
    own = client.cookies.get(cookie_name)
    revoked = await client.post(f"/can-bo/passkey/{pid}/thu-hoi", headers=headers)
    assert revoked.status_code == 200 and "Đã thu hồi passkey." in revoked.text
    assert "Đã đăng xuất 1 thiết bị khác." in revoked.text
    assert not await Passkey.exists().where(Passkey.id == pid)
    assert await sessions.load(lost_phone) is None  # signed out at once
    assert await sessions.load(own) is not None  # not the device that revoked it
    assert (await client.get("/can-bo/passkey")).status_code == 200
    entry = await AuditEntry.select(AuditEntry.detail).where(
        (AuditEntry.action == "passkey.revoke") & (AuditEntry.actor_id == officer.id)).first()
    assert json.loads(entry["detail"]) == {"passkey": pid, "sessions_ended": 1}


async def test_my_passkeys_needs_sign_in_and_own_keys_only(client):
    denied = await client.get("/can-bo/passkey")
    assert denied.status_code == 401 and "Đăng nhập cán bộ" in denied.text
    owner, _token, _device, _ = await enroll(client, role="checkpoint")
    other = await Passkey.select(Passkey.id).where(Passkey.officer == owner.id).first()
    await sign_in_officer(client, "venue")
    page = await client.get("/can-bo/passkey")
    response = await client.post(f"/can-bo/passkey/{other['id']}/doi-ten",
                                 headers=csrf_headers(page.text, htmx=True),
                                 data={"name": "Của tôi"})
    assert response.status_code == 422
    assert await Passkey.count().where(Passkey.name == "Của tôi") == 0


async def test_passkey_ceremonies_per_address_are_capped(client, monkeypatch):
    """A flood of sign-in attempts from one address gets 429 with a message, not more
    challenges (the cap is counted in the database, so every process shares it)."""
    from khaibao.routes.officers import passkeys as officer_auth
    from khaibao.tables import WebAuthnChallenge

    monkeypatch.setattr(officer_auth, "CEREMONY_LIMIT", 3)
    page = await client.get("/can-bo/dang-nhap")
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    before = await WebAuthnChallenge.count()
    answers = [await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)
               for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[-1].json()["error"] == "Quá nhiều lần thử đăng nhập. Hãy đợi vài phút."
    assert int(answers[-1].headers["retry-after"]) > 0
    assert await WebAuthnChallenge.count() == before + 3


async def test_a_signed_in_officer_opening_the_sign_in_page_goes_on(client):
    """An officer already signed in (a bookmark, the back button) is not left on the sign-in
    page: on to where they were going, or to their own start page."""
    await sign_in_officer(client, role="checkpoint")
    page = await client.get("/can-bo/dang-nhap")
    assert page.status_code in (302, 303)
    assert page.headers["location"] == "/kiemtra"
    onward = await client.get("/can-bo/dang-nhap?tiep=/kiemtra/quet")
    assert onward.headers["location"] == "/kiemtra/quet"
    client.cookies.clear()
    assert (await client.get("/can-bo/dang-nhap")).status_code == 200
