"""Access control over EVERY route: anonymous, citizen and each officer role outside a
route's permission are refused; a citizen never reaches another phone's persons or QR.

Routes are read from the app itself, so a new route is covered (or must be classified) the
moment it is added.
"""

from __future__ import annotations

import re

import httpx
import pytest
from litestar.routes import HTTPRoute

from khaibao.app import create_app
from khaibao.core.settings import Settings
from khaibao.officers import officers
from khaibao.routes.officers.session import officer_guard
from tests.helpers import csrf_from, sign_in_officer
from tests.http.test_citizen import declare, sign_in

_APP = create_app(Settings(database_url="sqlite:////tmp/khaibao-route-list.sqlite3",
                           secret_key=b"route-listing-key-0123456789abcdef0123"),
                  check_migrations=False)

# Routes open to anyone (public pages, sign-in flows, poster pages, public API schema).
PUBLIC = {
    "/", "/healthz", "/offline", "/ping", "/manifest.webmanifest", "/sw.js", "/ngon-ngu",
    "/xac-thuc/gui-ma", "/xac-thuc/ma", "/xac-thuc/dang-xuat", "/kbyt", "/khaibao",
    "/khaibao/tra-cuu", "/khaibao/khai-bao", "/dia-ban/con", "/dia-ban/chon", "/dia-ban/tim",
    "/v/{code:str}", "/v/{code:str}/check-in", "/v/{code:str}/check-out", "/quet",
    "/ap-phich/{name:str}", "/ap-phich/{name:str}/ma-qr.png", "/ap-phich/{name:str}/ma-qr.svg",
    "/huong-dan", "/huong-dan/{audience:str}", "/static/{file_path:path}", "/api/schema",
    "/api/schema/openapi.json", "/api/schema/{path:str}",
    "/can-bo/dang-ky/{token:str}", "/can-bo/dang-ky/{token:str}/tuy-chon",
    "/can-bo/dang-ky/{token:str}/xac-minh", "/can-bo/dang-nhap", "/can-bo/dang-nhap/tuy-chon",
    "/can-bo/dang-nhap/xac-minh", "/can-bo/dang-xuat",
}
# Routes that need a verified phone (citizen session).
CITIZEN = {
    "/kbyt/khai-bao", "/kbyt/them-nguoi", "/kbyt/bhyt", "/kbyt/cccd", "/qr",
    "/qr/{person_id:int}/thiet-bi", "/qr/thiet-bi/{device_id:int}/xoa",
    "/qr/{person_id:int}/ma-qr.png", "/qr/{person_id:int}/cap-lai",
    "/khaibao/tra-cuu/{arrival_id:int}/sua", "/khaibao/tra-cuu/{arrival_id:int}/huy",
}
# Kiosk pages: only on a device an officer turned into a kiosk.
KIOSK_PREFIX = "/kiosk"
# Ending a visit only clears this device's own cookies: harmless without a kiosk. (Ending
# kiosk mode needs a kiosk and an officer's passkey: refused like the other kiosk routes.)
KIOSK_ENDINGS = {"/kiosk/xong"}
# JSON API: only with an API key.
API_PREFIX = "/api/v1/"


def _handlers():
    for route in _APP.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                yield method, route.path, handler


def _concrete(path: str, number: int = 1) -> str:
    path = re.sub(r"\{[a-z_]+:int\}", str(number), path)
    return re.sub(r"\{[a-z_]+:(str|path)\}", "x", path)


OFFICER_ROUTES = [(m, p, h.opt.get("permission")) for m, p, h in _handlers()
                  if officer_guard in h.resolve_guards()]
OTHER_ROUTES = [(m, p) for m, p, h in _handlers() if officer_guard not in h.resolve_guards()]


def _id(item) -> str:
    return f"{item[0]} {item[1]}"


def test_every_route_is_classified():
    """A new route without the officer guard must be deliberately listed as public, citizen,
    kiosk or API — nothing is open by accident."""
    assert len(OFFICER_ROUTES) > 50
    unknown = [(m, p) for m, p in OTHER_ROUTES
               if p not in PUBLIC | CITIZEN and not p.startswith((KIOSK_PREFIX, API_PREFIX))]
    assert unknown == []
    for _method, _path, permission in OFFICER_ROUTES:
        assert permission in officers.PERMISSIONS, (_path, permission)


async def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    for page in ("/kbyt", "/", "/can-bo/dang-nhap", "/khaibao"):
        response = await client.get(page, follow_redirects=True)
        if 'name="_csrf_token"' in response.text:
            return {"x-csrftoken": csrf_from(response.text)}
    raise AssertionError("no page with a CSRF token")


async def _call(client, method: str, path: str, headers: dict, **extra) -> httpx.Response:
    return await client.request(method, path, headers=headers, follow_redirects=False, **extra)


async def test_officer_routes_refuse_anonymous_and_citizens(client, outbox_path):
    headers = await _csrf(client)
    for method, path, _permission in OFFICER_ROUTES:
        response = await _call(client, method, _concrete(path), headers)
        assert response.status_code == 401, (method, path, response.status_code)
        assert "Đăng nhập" in response.text or "đăng nhập" in response.text
    await sign_in(client, outbox_path)
    headers = await _csrf(client)
    for method, path, _permission in OFFICER_ROUTES:
        response = await _call(client, method, _concrete(path), headers)
        assert response.status_code == 401, ("citizen", method, path, response.status_code)
        htmx = await _call(client, method, _concrete(path), {**headers, "HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/can-bo/")


@pytest.mark.parametrize("role", officers.ROLES)
async def test_each_role_is_refused_outside_its_permissions(client, role):
    await sign_in_officer(client, role, name=f"Cán bộ {role}",
                          region_code="VN-46" if role == officers.LOCAL else None)
    headers = await _csrf(client)
    refused = 0
    for method, path, permission in OFFICER_ROUTES:
        if role in officers.PERMISSIONS[permission]:
            continue
        response = await _call(client, method, _concrete(path), headers)
        assert response.status_code == 403, (role, method, path, response.status_code)
        assert "Không có quyền truy cập" in response.text
        refused += 1
    if role != officers.ADMIN:
        assert refused > 10


async def test_disabled_officer_is_refused_everywhere(client):
    officer = await sign_in_officer(client, officers.ADMIN, name="Quản Trị Bị Khoá")
    headers = await _csrf(client)
    assert (await client.get("/quan-tri/can-bo")).status_code == 200
    await officers.set_active(officer.id, False)
    for method, path, _permission in OFFICER_ROUTES:
        response = await _call(client, method, _concrete(path), headers)
        assert response.status_code in (401, 403), (method, path, response.status_code)


async def test_citizen_routes_need_a_verified_phone(client):
    headers = await _csrf(client)
    for method, path in OTHER_ROUTES:
        if path not in CITIZEN:
            continue
        response = await _call(client, method, _concrete(path), headers)
        assert response.status_code in (303, 401), (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith(("/kbyt?tiep=", "/khaibao?tiep="))


async def test_kiosk_and_api_routes_refuse_without_a_kiosk_or_key(client):
    headers = await _csrf(client)
    for method, path in OTHER_ROUTES:
        if not path.startswith((KIOSK_PREFIX, API_PREFIX)):
            continue
        # a well-formed JSON body, so the key check (not body validation) is what answers
        body = {"json": {"person_token": "KB1P0000000000"}} if path.startswith(API_PREFIX) else {}
        response = await _call(client, method, _concrete(path), headers, **body)
        if path in KIOSK_ENDINGS:
            assert response.status_code == 303 and response.text == "", path
            continue
        assert response.status_code in (401, 403), (method, path, response.status_code)
        assert "Đặng" not in response.text


async def test_a_citizen_never_reaches_another_phones_persons(client, database, outbox_path):
    """IDOR: full pages, HTMX fragments and the QR download, by guessing the person id."""
    await sign_in(client, outbox_path)
    assert (await declare(client, "ref-idor-victim-0001", full_name="Nạn Nhân Bí Mật")
            ).status_code == 303
    page = (await client.get("/qr")).text
    victim_id = int(re.search(r'id="nguoi-(\d+)"', page).group(1))
    qr_before = (await client.get(f"/qr/{victim_id}/ma-qr.png")).content
    assert qr_before.startswith(b"\x89PNG")

    client.cookies.clear()
    await sign_in(client, outbox_path)  # the attacker: another phone
    headers = await _csrf(client)
    for htmx in (False, True):
        extra = {"HX-Request": "true"} if htmx else {}
        for method, path in [("GET", f"/qr/{victim_id}/ma-qr.png"),
                             ("POST", f"/qr/{victim_id}/cap-lai"),
                             ("POST", f"/qr/{victim_id}/thiet-bi"),
                             ("GET", f"/kiosk/the/{victim_id}"),
                             ("GET", f"/kbyt/khai-bao?tiep=/qr/{victim_id}"),
                             ("GET", "/qr?ref=ref-idor-victim-0001")]:
            response = await _call(client, method, path, {**headers, **extra})
            assert response.status_code in (200, 303, 401, 403, 404), (method, path)
            assert "Nạn Nhân Bí Mật" not in response.text, (method, path)
            assert not response.content.startswith(b"\x89PNG"), (method, path)
    # a declaration naming the victim's person id selects nothing of theirs
    form = await client.get("/kbyt/khai-bao")
    assert "Nạn Nhân Bí Mật" not in form.text
    sneaky = await client.post("/kbyt/khai-bao", data={
        "_csrf_token": csrf_from(form.text), "client_ref": "ref-idor-attack-0001",
        "pledge": "on", "person": str(victim_id), "persons": str(victim_id)},
        follow_redirects=False)
    assert sneaky.status_code in (303, 404, 422)
    assert "Nạn Nhân Bí Mật" not in (await client.get("/qr")).text
    # the victim's QR was not re-issued by the attacker's POST
    client.cookies.clear()
