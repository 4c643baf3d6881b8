"""Session attacks: fixation (an attacker-chosen id is replaced at sign-in), sign-out and an
officer being disabled end sessions at once (even a kept copy of the cookie), a session of one
kind never works as the other, and the cookies carry the right flags."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx

from khaibao.app import create_app
from khaibao.core import sessions
from khaibao.officers import officers
from tests.helpers import csrf_from, random_mobile, sign_in_officer
from tests.http.test_citizen import last_otp, sign_in
from tests.http.test_officer_auth import COOKIE as OFFICER_COOKIE
from tests.http.test_officer_auth import enroll, passkey_sign_in

CITIZEN_COOKIE = "khaibao_session"


def _set_cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie set")


async def test_citizen_fixation_attacker_id_is_replaced(client, outbox_path):
    planted = "attacker-chosen-session-id-0123456789abcdef"
    client.cookies.set(CITIZEN_COOKIE, planted, domain="localhost.local")
    await sign_in(client, outbox_path)
    issued = re.search(rf"{CITIZEN_COOKIE}=([^;]+)",
                       _set_cookie(client.last_sign_in, CITIZEN_COOKIE)).group(1)
    assert issued and issued != planted
    assert await sessions.load(planted) is None
    # the planted id never became a session: an attacker holding it sees nothing
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url),
                                 cookies={CITIZEN_COOKIE: planted}) as attacker:
        assert (await attacker.get("/qr", follow_redirects=False)).status_code == 303


async def test_citizen_sign_in_replaces_an_existing_session(client, outbox_path):
    await sign_in(client, outbox_path)
    first = client.cookies.get(CITIZEN_COOKIE)
    token = csrf_from((await client.get("/qr")).text)
    e164 = "+84" + random_mobile()[1:]  # another phone signs in on the same browser
    await client.post("/xac-thuc/gui-ma", data={"phone": "0" + e164[3:], "next": "/qr",
                                                "_csrf_token": token})
    again = await client.post("/xac-thuc/ma", data={
        "phone": e164, "code": last_otp(outbox_path, e164), "next": "/qr",
        "_csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303
    second = re.search(rf"{CITIZEN_COOKIE}=([^;]+)",
                       _set_cookie(again, CITIZEN_COOKIE)).group(1)
    assert second != first and await sessions.load(first) is None


async def test_officer_fixation_attacker_id_is_replaced(client):
    _officer, _token, device, _ = await enroll(client, name="Bùi Cố Định")
    planted = "attacker-officer-session-0123456789abcdef"
    client.cookies.set(OFFICER_COOKIE, planted)
    response = await passkey_sign_in(client, device)
    assert response.status_code == 200
    issued = response.cookies.get(OFFICER_COOKIE)
    assert issued and issued != planted and await sessions.load(planted) is None


async def test_citizen_sign_out_ends_the_session_at_once(client, outbox_path):
    await sign_in(client, outbox_path)
    raw = client.cookies.get(CITIZEN_COOKIE)
    page = await client.get("/qr")
    out = await client.post("/xac-thuc/dang-xuat", data={"_csrf_token": csrf_from(page.text)},
                            follow_redirects=False)
    assert out.status_code == 303
    assert await sessions.load(raw) is None
    client.cookies.set(CITIZEN_COOKIE, raw)  # a kept copy of the cookie
    assert (await client.get("/qr", follow_redirects=False)).status_code == 303


async def test_officer_disable_ends_every_session_at_once(client):
    officer = await sign_in_officer(client, "checkpoint", name="Lý Bị Khoá")
    second_device = await officers.start_session(officer.id)
    assert (await client.get("/kiemtra/")).status_code == 200
    await officers.set_active(officer.id, False)
    assert (await client.get("/kiemtra/")).status_code == 401
    client.cookies.set(OFFICER_COOKIE, second_device)
    assert (await client.get("/kiemtra/")).status_code == 401
    # re-enabling does not revive the old sessions
    await officers.set_active(officer.id, True)
    assert (await client.get("/kiemtra/")).status_code == 401


async def test_disable_deletes_the_sessions_themselves(client):
    """Not only refused while disabled: the sessions are gone at once, so re-enabling the
    officer a moment later does not bring a stolen cookie back to life."""
    officer = await sign_in_officer(client, "checkpoint", name="Đinh Khoá Mở")
    raw = client.cookies.get(OFFICER_COOKIE)
    await officers.set_active(officer.id, False)
    assert await sessions.load(raw) is None
    await officers.set_active(officer.id, True)
    assert (await client.get("/kiemtra/")).status_code == 401


async def test_disable_through_the_admin_page_ends_the_session(client):
    victim = await officers.create("Mai Bị Khoá Qua Trang", officers.CHECKPOINT)
    raw = await officers.start_session(victim.id)
    await sign_in_officer(client, "admin", name="Quản Trị Khoá")
    page = await client.get(f"/quan-tri/can-bo/{victim.id}/khoa")
    done = await client.post(f"/quan-tri/can-bo/{victim.id}/khoa",
                             data={"_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert done.status_code in (200, 303)
    client.cookies.set(OFFICER_COOKIE, raw)
    assert (await client.get("/kiemtra/")).status_code == 401


async def test_a_session_of_one_kind_is_not_the_other(client, outbox_path):
    await sign_in(client, outbox_path)
    citizen_raw = client.cookies.get(CITIZEN_COOKIE)
    client.cookies.clear()
    client.cookies.set(OFFICER_COOKIE, citizen_raw)
    assert (await client.get("/kiemtra/")).status_code == 401
    officer = await officers.create("Hà Hai Loại", officers.ADMIN)
    officer_raw = await officers.start_session(officer.id)
    client.cookies.clear()
    client.cookies.set(CITIZEN_COOKIE, officer_raw)
    assert (await client.get("/qr", follow_redirects=False)).status_code == 303


async def test_cookie_flags_over_http(client, outbox_path):
    await sign_in(client, outbox_path)
    citizen = _set_cookie(client.last_sign_in, CITIZEN_COOKIE)
    assert "HttpOnly" in citizen and "Path=/" in citizen
    assert re.search(r"SameSite=(lax|strict)", citizen, re.IGNORECASE)
    _officer, _token, device, _ = await enroll(client, name="Cờ Cookie")
    client.cookies.delete(OFFICER_COOKIE)
    response = await passkey_sign_in(client, device)
    officer = _set_cookie(response, OFFICER_COOKIE)
    assert "HttpOnly" in officer and re.search(r"SameSite=strict", officer, re.IGNORECASE)
    csrf = _set_cookie(await httpx_fresh_get(client, "/kbyt"), "csrftoken")
    assert "HttpOnly" in csrf and re.search(r"SameSite=strict", csrf, re.IGNORECASE)


async def httpx_fresh_get(client, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url=str(client.base_url)) as fresh:
        return await fresh.get(path)


async def test_cookies_are_secure_on_https(database, outbox_path):
    https = replace(database, base_url="https://khaibao.example.vn")
    transport = httpx.ASGITransport(app=create_app(https), client=("10.66.6.6", 40000))
    async with httpx.AsyncClient(transport=transport,
                                 base_url="https://khaibao.example.vn") as client:
        page = await client.get("/kbyt")
        # the CSRF cookie too carries the __Host- prefix: no sibling subdomain can plant it
        csrf = _set_cookie(page, "__Host-csrftoken")
        assert "Secure" in csrf and "Domain" not in csrf and "Path=/" in csrf
        token = csrf_from(page.text)
        phone = "0905" + re.sub(r"\D", "", str(id(client)))[-6:]
        e164 = "+84" + phone[1:]
        await client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                     "_csrf_token": token})
        verified = await client.post("/xac-thuc/ma", data={
            "phone": e164, "code": last_otp(outbox_path, e164), "next": "/qr",
            "_csrf_token": token}, follow_redirects=False)
        assert verified.status_code == 303
        # on https the __Host- prefix pins the cookie to this origin, path / and Secure
        session = _set_cookie(verified, "__Host-khaibao")
        assert "Secure" in session and "HttpOnly" in session and "Domain" not in session
        officer = await officers.create("An Toàn Https", officers.ADMIN)
        raw = await officers.start_session(officer.id)
        client.cookies.set("__Host-khaibao-officer", raw)
        page = await client.get("/can-bo/passkey")
        assert page.status_code == 200
