"""Checkpoint kiosk mode over HTTP: starting it, declaring there, and the reset."""

from __future__ import annotations

import json
import random
import re

import httpx
import pytest

from khaibao.arrivals import arrivals
from khaibao.tables import AuditEntry, HealthDeclaration, Person, WebSession
from tests.helpers import csrf_from, csrf_headers, random_mobile, sign_in_officer
from tests.http.test_citizen import last_otp, person_form
from tests.http.test_officer_auth import enroll


async def start_kiosk(client, role: str = "checkpoint") -> tuple[int, str]:
    """An officer starts kiosk mode on ``client``; returns (checkpoint id, officer cookie).
    The response must delete the officer cookie on this device."""
    checkpoint_id = await arrivals.add_checkpoint(f"Chốt Kiosk {random.randint(1, 10**6)}")
    await sign_in_officer(client, role, checkpoint_id=checkpoint_id)
    officer_cookie = client.cookies["khaibao_officer"]
    page = await client.get("/kiemtra/kiosk")
    assert page.status_code == 200
    assert f'<option value="{checkpoint_id}" selected>' in page.text  # the officer's own
    started = await client.post("/kiemtra/kiosk", data={
        "_csrf_token": csrf_from(page.text), "checkpoint": str(checkpoint_id)},
        follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/kiosk"
    deleted = [c for c in started.headers.get_list("set-cookie")
               if c.startswith("khaibao_officer=")]
    assert deleted and ("max-age=0" in deleted[0].lower() or "expires=" in deleted[0].lower())
    client.cookies.delete("khaibao_officer")  # as the browser does on that answer
    return checkpoint_id, officer_cookie


async def send_kiosk_code(client):
    """A new phone asks the kiosk for a code: (phone, its +84 form, CSRF token, answer)."""
    phone = random_mobile()
    token = csrf_from((await client.get("/kiosk/kbyt")).text)
    sent = await client.post("/kiosk/gui-ma", data={"_csrf_token": token, "loai": "kbyt",
                                                    "phone": phone})
    return phone, "+84" + phone[1:], token, sent


def ref_of(html: str) -> str:
    return re.search(r'name="client_ref" value="([^"]+)"', html).group(1)


async def declare_without_phone(client, **person: str):
    page = await client.get("/kiosk/kbyt/khai-bao")
    assert page.status_code == 200, page.text
    data = {"_csrf_token": csrf_from(page.text), "loai": "kbyt", "client_ref": ref_of(page.text),
            "pledge": "on", "places_visited": "", **person_form(**person)}
    return await client.post("/kiosk/kbyt/khai-bao", data=data, follow_redirects=False), data


async def test_starting_a_kiosk_needs_the_kiosk_permission(client):
    assert (await client.get("/kiemtra/kiosk")).status_code == 401
    for role in ("venue", "health"):
        client.cookies.clear()
        await sign_in_officer(client, role)
        assert (await client.get("/kiemtra/kiosk")).status_code == 403


async def test_start_sets_the_kiosk_cookie_and_signs_the_officer_out(client):
    checkpoint_id, officer_cookie = await start_kiosk(client)
    assert client.cookies.get("khaibao_kiosk")
    assert "khaibao_officer" not in client.cookies
    welcome = await client.get("/kiosk")
    assert welcome.status_code == 200
    assert "Khai báo y tế" in welcome.text and "Khai báo về Huế" in welcome.text
    # the officer's session is over on the server too: the old cookie reaches nothing
    client.cookies.set("khaibao_officer", officer_cookie)
    assert (await client.get("/kiemtra/kiosk")).status_code == 401
    row = await WebSession.select().where(WebSession.kind == "kiosk").order_by(
        WebSession.id, ascending=False).first()
    assert row["subject_id"] == checkpoint_id


@pytest.mark.parametrize("path", ["/kiosk", "/kiosk/kbyt", "/kiosk/kbyt/khai-bao", "/kiosk/qr"])
async def test_kiosk_pages_need_the_kiosk_cookie(client, path):
    response = await client.get(path)
    assert response.status_code == 403
    assert "không ở chế độ kiosk" in response.text
    await sign_in_officer(client, "admin")  # an officer session is not a kiosk
    assert (await client.get(path)).status_code == 403


async def test_declaring_without_a_phone_is_marked_kiosk_and_reset_forgets_it(client):
    checkpoint_id, _cookie = await start_kiosk(client)
    response, _data = await declare_without_phone(client, full_name="Đoàn Văn Kiốt")
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/qr"
    assert response.headers["cache-control"] == "no-store"
    person = await Person.select().where(Person.full_name == "Đoàn Văn Kiốt").first()
    assert person["account"] is None and person["channel"] == "kiosk"
    row = await HealthDeclaration.select().where(HealthDeclaration.person == person["id"]).first()
    assert row["channel"] == "kiosk" and row["account"] is None
    qr = await client.get("/kiosk/qr")
    assert qr.status_code == 200 and "Đoàn Văn Kiốt" in qr.text and "<svg" in qr.text
    assert qr.headers["cache-control"] == "no-store"
    assert 'autocomplete="off"' in (await client.get("/kiosk/kbyt/khai-bao")).text
    card = await client.get(f"/kiosk/the/{person['id']}")
    assert card.status_code == 200 and "Đoàn Văn Kiốt" in card.text
    assert card.headers["cache-control"] == "no-store"

    done = await client.post("/kiosk/xong", data={"_csrf_token": csrf_from(qr.text)},
                             follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/kiosk"
    # Back after the reset: the previous person's QR and card are gone
    for path in ("/kiosk/qr", f"/kiosk/the/{person['id']}"):
        again = await client.get(path, follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"] == "/kiosk"
        assert "Đoàn Văn Kiốt" not in again.text
    assert await AuditEntry.exists().where((AuditEntry.action == "kiosk.declare")
                                           & (AuditEntry.person == person["id"]))


async def test_no_store_on_every_kiosk_page(client):
    await start_kiosk(client)
    for path in ("/kiosk", "/kiosk/kbyt", "/kiosk/khaibao", "/kiosk/kbyt/khai-bao",
                 "/kiosk/khaibao/khai-bao"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        assert "data-idle-seconds" in response.text or path == "/kiosk"


async def test_a_kiosk_without_phone_cannot_declare_for_someone_else(client):
    await start_kiosk(client)
    _response, data = await declare_without_phone(client, full_name="Người Đầu Tiên")
    first = await Person.select().where(Person.full_name == "Người Đầu Tiên").first()
    await client.post("/kiosk/xong", data={"_csrf_token": data["_csrf_token"]})
    page = await client.get("/kiosk/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "loai": "kbyt", "client_ref": ref_of(page.text),
            "pledge": "on", "persons": str(first["id"]),
            **person_form(full_name="Người Thứ Hai")}
    sent = await client.post("/kiosk/kbyt/khai-bao", data=data, follow_redirects=False)
    assert sent.status_code == 303
    qr = await client.get("/kiosk/qr")
    assert "Người Thứ Hai" in qr.text and "Người Đầu Tiên" not in qr.text
    assert await HealthDeclaration.count().where(HealthDeclaration.person == first["id"]) == 1


async def test_a_stale_form_after_reset_saves_nothing(client):
    await start_kiosk(client)
    page = await client.get("/kiosk/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "loai": "kbyt", "client_ref": ref_of(page.text),
            "pledge": "on", **person_form(full_name="Biểu Mẫu Cũ")}
    await client.post("/kiosk/xong", data={"_csrf_token": csrf_from(page.text)})
    sent = await client.post("/kiosk/kbyt/khai-bao", data=data, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/kiosk"
    assert not await Person.exists().where(Person.full_name == "Biểu Mẫu Cũ")


async def test_declaring_with_a_phone_lists_its_persons_and_leaves_no_citizen_session(
        client, outbox_path):
    await start_kiosk(client)
    phone, e164, token, sent = await send_kiosk_code(client)
    assert sent.status_code == 200 and "Mã OTP" in sent.text
    verified = await client.post("/kiosk/ma", data={
        "_csrf_token": token, "loai": "kbyt", "phone": e164,
        "code": last_otp(outbox_path, e164)}, follow_redirects=False)
    assert verified.status_code == 303
    assert verified.headers["location"] == "/kiosk/kbyt/khai-bao"
    assert "khaibao_session" not in client.cookies  # no citizen session at a kiosk
    form = await client.get("/kiosk/kbyt/khai-bao")
    data = {"_csrf_token": token, "loai": "kbyt", "client_ref": ref_of(form.text),
            "pledge": "on", **person_form(full_name="Chủ Máy Kiosk")}
    saved = await client.post("/kiosk/kbyt/khai-bao", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    person = await Person.select().where(Person.full_name == "Chủ Máy Kiosk").first()
    assert person["account"] is not None and person["channel"] == "kiosk"
    row = await HealthDeclaration.select().where(HealthDeclaration.person == person["id"]).first()
    assert row["channel"] == "kiosk" and row["account"] == person["account"]
    # the same visit declaring again: the phone's person is offered, room for one more
    listed = await client.get("/kiosk/kbyt/khai-bao")
    assert f'name="persons" value="{person["id"]}" checked' in listed.text
    assert 'name="p0_full_name"' in listed.text
    await client.post("/kiosk/xong", data={"_csrf_token": token})
    assert (await client.get("/qr", follow_redirects=False)).status_code == 303  # citizen: no
    again = await client.get("/kiosk/kbyt/khai-bao")
    assert "Chủ Máy Kiosk" not in again.text  # the reset forgot the phone


async def _enrolled(client, role: str):
    """An officer of ``role`` with a passkey on a device of their own (another browser)."""
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url=str(client.base_url)) as elsewhere:
        officer, _token, device, result = await enroll(elsewhere, role,
                                                       name=f"Cán Bộ {role.title()}")
    assert result.status_code == 200, result.text
    return officer, device


async def _exit_with(client, device) -> httpx.Response:
    """"Thoát kiosk (cán bộ)" answered with ``device``'s passkey."""
    headers = {**csrf_headers((await client.get("/kiosk/kbyt")).text),
               "content-type": "application/json"}
    options = await client.post("/kiosk/thoat/tuy-chon", headers=headers)
    assert options.status_code == 200, options.text
    return await client.post("/kiosk/thoat", headers=headers,
                             content=json.dumps(device.get(options.json())))


async def test_exit_needs_an_officers_passkey(client):
    """A visitor cannot end kiosk mode; an officer may, with their passkey, if their role
    may run a kiosk; the end is audited under that officer's name."""
    await start_kiosk(client)
    welcome = await client.get("/kiosk")
    assert "Thoát kiosk (cán bộ)" in welcome.text and "data-passkey-sign-in" in welcome.text
    token = csrf_from((await client.get("/kiosk/kbyt")).text)
    plain = await client.post("/kiosk/thoat", data={"_csrf_token": token},
                              follow_redirects=False)
    assert plain.status_code == 400 and "khaibao_kiosk" in client.cookies
    assert (await client.get("/kiosk")).status_code == 200
    # a sign-in's challenge does not end a kiosk (nor the other way round)
    _admin, admin_device = await _enrolled(client, "admin")
    headers = {"x-csrftoken": token, "content-type": "application/json"}
    sign_in = await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)
    mixed = await client.post("/kiosk/thoat", headers=headers,
                              content=json.dumps(admin_device.get(sign_in.json())))
    assert mixed.status_code == 400 and "khaibao_kiosk" in client.cookies
    _venue, venue_device = await _enrolled(client, "venue")
    refused = await _exit_with(client, venue_device)
    assert refused.status_code == 403 and refused.json()["error"]
    assert "khaibao_kiosk" in client.cookies and (await client.get("/kiosk")).status_code == 200
    officer, device = await _enrolled(client, "checkpoint")
    out = await _exit_with(client, device)
    assert out.status_code == 200 and out.json()["redirect"] == "/can-bo/dang-nhap"
    assert "khaibao_kiosk" not in client.cookies and "khaibao_officer" not in client.cookies
    assert (await client.get("/kiosk")).status_code == 403
    entry = await AuditEntry.select().where(AuditEntry.action == "kiosk.end").order_by(
        AuditEntry.id, ascending=False).first()
    assert (entry["actor_kind"], entry["actor_id"]) == ("officer", officer.id)


async def test_exit_options_need_a_kiosk(client):
    page = await client.get("/kbyt")
    answer = await client.post("/kiosk/thoat/tuy-chon", headers={
        **csrf_headers(page.text), "content-type": "application/json"})
    assert answer.status_code == 403


async def test_asking_again_within_the_minute_brings_back_the_code_field(client, outbox_path):
    """A second tap on "Gửi mã OTP" (or the page reopened) within the resend wait: the code
    already sent comes back to be typed, no second SMS, and it signs in."""
    await start_kiosk(client)
    phone, e164, token, _sent = await send_kiosk_code(client)
    code = last_otp(outbox_path, e164)
    sms_count = outbox_path.read_text().count(e164)
    again = await client.post("/kiosk/gui-ma", data={"_csrf_token": token, "loai": "kbyt",
                                                     "phone": phone})
    assert again.status_code == 200
    assert 'name="code"' in again.text and f'name="phone" value="{e164}"' in again.text
    assert outbox_path.read_text().count(e164) == sms_count  # nothing sent again
    verified = await client.post("/kiosk/ma", data={
        "_csrf_token": token, "loai": "kbyt", "phone": e164, "code": code},
        follow_redirects=False)
    assert verified.status_code == 303


async def test_the_kiosk_shows_the_verdict_under_each_qr(client):
    """At the kiosk the person sees what the checkpoint will say: green after a plain
    declaration; red with what to do after declaring a close contact."""
    await start_kiosk(client)
    page = await client.get("/kiosk/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "loai": "kbyt", "client_ref": ref_of(page.text),
            "pledge": "on", "places_visited": "", "exposures": "confirmed_case",
            **person_form(full_name="Phan Văn Tiếp Xúc")}
    response = await client.post("/kiosk/kbyt/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303
    qr = await client.get("/kiosk/qr")
    assert 'data-colour="red"' in qr.text
    assert "Yêu cầu hiện tại: Không được qua" in qr.text and "liên hệ trạm y tế" in qr.text
    await client.post("/kiosk/xong", data={"_csrf_token": csrf_from(qr.text)})
    response, _data = await declare_without_phone(client, full_name="Đỗ Thị Bình Thường")
    plain = await client.get("/kiosk/qr")
    assert 'data-colour="green"' in plain.text and "Yêu cầu hiện tại: Được qua" in plain.text
