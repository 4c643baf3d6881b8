"""The installable app over HTTP: manifest, service worker, live-QR device keys, sign-out,
and the offline outbox's replays (one declaration however often it is sent)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime

from khaibao.qr.tokens import issue_live_token, live_step
from khaibao.routes import pwa
from khaibao.tables import DeviceKey, HealthDeclaration
from tests.helpers import csrf_from, sign_in_officer
from tests.http.test_citizen import declare, sign_in


async def test_manifest_has_shortcuts_screenshots_and_identity(client):
    manifest = json.loads((await client.get("/manifest.webmanifest")).text)
    assert manifest["id"] == "/" and manifest["scope"] == "/" and manifest["lang"] == "vi"
    assert manifest["theme_color"] and manifest["background_color"]
    assert "Khai báo y tế" in manifest["description"]
    names = [s["name"] for s in manifest["shortcuts"]]
    assert names == ["Khai báo y tế", "Mã QR của tôi", "Quét QR"]
    assert [s["url"].split("?")[0] for s in manifest["shortcuts"]] == [
        "/kbyt/khai-bao", "/qr", "/quet"]
    factors = {s["form_factor"] for s in manifest["screenshots"]}
    assert factors == {"narrow", "wide"}
    for shot in manifest["screenshots"]:
        image = await client.get(shot["src"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        width, height = (int(x) for x in shot["sizes"].split("x"))
        assert image.content[16:24] == width.to_bytes(4, "big") + height.to_bytes(4, "big")


async def test_service_worker_keeps_officer_pages_and_fragments_out_of_caches(client):
    source = (await client.get("/sw.js")).text
    for path in ("/kiemtra", "/quan-tri", "/can-bo", "/diem-den", "/kiosk"):
        assert f'"{path}"' in source
    assert 'request.headers.get("HX-Request")' in source
    assert 'const PERSONAL_CACHE = "khaibao-personal"' in source
    for name in ("offline_queue.js", "live_qr.js", "qrcode-generator"):
        assert name in source


def test_cache_version_follows_file_contents(tmp_path, monkeypatch):
    from khaibao.core import web

    (tmp_path / "css").mkdir()
    monkeypatch.setattr(web, "STATIC_DIR", tmp_path)
    web.static_url.cache_clear()
    try:
        (tmp_path / "css" / "a.css").write_text("body{}")
        before = pwa.build_service_worker('const VERSION = "__CACHE_VERSION__";',
                                          [web.static_url("css/a.css")])
        web.static_url.cache_clear()
        (tmp_path / "css" / "a.css").write_text("body{color:red}")
        after = pwa.build_service_worker('const VERSION = "__CACHE_VERSION__";',
                                         [web.static_url("css/a.css")])
    finally:
        web.static_url.cache_clear()
    version = re.compile(r'"([0-9a-f]{12})"')
    assert version.search(before).group(1) != version.search(after).group(1)


async def _owner_qr(client, outbox_path):
    await sign_in(client, outbox_path)
    assert (await declare(client, uuid.uuid4().hex)).status_code == 303
    page = await client.get("/qr")
    person_id = int(re.search(r'data-person-id="(\d+)"', page.text).group(1))
    return page, person_id


async def test_device_key_is_issued_once_and_makes_live_tokens(client, outbox_path, database):
    page, person_id = await _owner_qr(client, outbox_path)
    assert "Dùng mã QR động trên điện thoại này" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    no_csrf = await client.post(f"/qr/{person_id}/thiet-bi")
    assert no_csrf.status_code == 403
    response = await client.post(f"/qr/{person_id}/thiet-bi",
                                 headers={"x-csrftoken": csrf_from(page.text),
                                          "user-agent": "Mozilla/5.0 (Linux; Android 14) "
                                                        "Chrome/156.0 Mobile Safari/537.36"})
    assert response.status_code == 201, response.text
    data = response.json()
    assert abs(data["server_time"] - datetime.now(UTC).timestamp()) < 60
    assert data["step_seconds"] == 30 and len(data["reference"]) == 10
    assert data["reference"] in response.headers["set-cookie"]
    row = await DeviceKey.select().where(DeviceKey.reference == data["reference"]).first()
    assert row["person"] == person_id and data["key"] not in row["key_encrypted"]
    key = base64.urlsafe_b64decode(data["key"] + "==")
    token = issue_live_token(data["reference"], key, live_step(datetime.now(UTC).timestamp()))
    # an officer's check finds the person; the page lists the device
    await sign_in_officer(client, "checkpoint")
    check_page = await client.get("/kiemtra")
    found = await client.post("/kiemtra/tra-cuu", data={"q": token},
                              headers={"x-csrftoken": csrf_from(check_page.text)})
    assert found.status_code == 200 and "Đặng Văn Hùng" in found.text
    listed = await client.get("/qr")
    assert "Android · Chrome" in listed.text and "Gỡ thiết bị này" in listed.text


async def test_someone_elses_person_gets_no_key(client, outbox_path):
    _page, person_id = await _owner_qr(client, outbox_path)
    client.cookies.clear()
    await sign_in(client, outbox_path)
    page = await client.get("/qr")
    response = await client.post(f"/qr/{person_id}/thiet-bi",
                                 headers={"x-csrftoken": csrf_from(page.text)})
    assert response.status_code == 404


async def test_removing_a_device_and_signing_out_revoke_keys(client, outbox_path):
    page, person_id = await _owner_qr(client, outbox_path)
    headers = {"x-csrftoken": csrf_from(page.text)}
    first = (await client.post(f"/qr/{person_id}/thiet-bi", headers=headers)).json()
    second = (await client.post(f"/qr/{person_id}/thiet-bi", headers=headers)).json()
    listed = await client.get("/qr")
    device_id = (await DeviceKey.select(DeviceKey.id).where(
        DeviceKey.reference == first["reference"]).first())["id"]
    removed = await client.post(f"/qr/thiet-bi/{device_id}/xoa",
                                data={"_csrf_token": csrf_from(listed.text)},
                                follow_redirects=False)
    assert removed.status_code == 303
    rows = {r["reference"]: r["revoked_at"] for r in await DeviceKey.select(
        DeviceKey.reference, DeviceKey.revoked_at).where(DeviceKey.person == person_id)}
    assert rows[first["reference"]] is not None and rows[second["reference"]] is None
    out = await client.post("/xac-thuc/dang-xuat", data={"_csrf_token": csrf_from(listed.text)},
                            follow_redirects=False)
    assert out.status_code == 303 and '"cache"' in out.headers["clear-site-data"]
    revoked = await DeviceKey.select(DeviceKey.revoked_at).where(
        DeviceKey.reference == second["reference"]).first()
    assert revoked["revoked_at"] is not None


async def test_replaying_a_queued_declaration_makes_one(client, outbox_path):
    """What offline_queue.js and sw.js send, any number of times: one declaration."""
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    assert "data-offline-queue" in page.text
    ref = uuid.uuid4().hex
    body = {"_csrf_token": csrf_from(page.text), "client_ref": ref, "pledge": "on",
            "places_visited": "Huế", "p0_full_name": "Phan Thị Lan", "p0_id_type": "cmnd",
            "p0_id_number": str(uuid.uuid4().int)[:9], "p0_birth_year": "1985",
            "p0_sex": "female", "p0_nationality": "VN", "p0_address_detail": "", "p0_bhyt": ""}
    headers = {"HX-Request": "true", "x-csrftoken": csrf_from(page.text)}
    answers = [await client.post("/kbyt/khai-bao", data=body, headers=headers)
               for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert {a.headers["hx-redirect"] for a in answers} == {f"/qr?ref={ref}"}
    stored = await HealthDeclaration.count().where(
        HealthDeclaration.client_ref.like(f"{ref}:%"))
    assert stored == 1


async def test_officer_sees_expired_for_an_old_live_token(client, outbox_path):
    page, person_id = await _owner_qr(client, outbox_path)
    data = (await client.post(f"/qr/{person_id}/thiet-bi",
                              headers={"x-csrftoken": csrf_from(page.text)})).json()
    key = base64.urlsafe_b64decode(data["key"] + "==")
    old = issue_live_token(data["reference"], key,
                           live_step(datetime.now(UTC).timestamp() - 45))
    await sign_in_officer(client, "checkpoint")
    check_page = await client.get("/kiemtra")
    refused = await client.post("/kiemtra/tra-cuu", data={"q": old},
                                headers={"x-csrftoken": csrf_from(check_page.text)})
    assert "Mã đã hết hạn — mở lại ứng dụng." in refused.text
    assert "Đặng Văn Hùng" not in refused.text
