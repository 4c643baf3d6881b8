"""Security headers on EVERY route's answer — pages, fragments, downloads, errors, redirects —
for anonymous visitors, citizens and admins; HSTS only on https; personal pages not cached."""

from __future__ import annotations

import httpx
import pytest

from khaibao.app import create_app
from khaibao.core.security import CONTENT_SECURITY_POLICY
from tests.helpers import sign_in_officer
from tests.http.test_attack_access_http import (
    OFFICER_ROUTES,
    OTHER_ROUTES,
    _concrete,
    _csrf,
)
from tests.http.test_citizen import declare, sign_in

REQUIRED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def _check(response: httpx.Response, where: str) -> None:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, (where, name, response.status_code)
    assert "camera=(self)" in response.headers.get("permissions-policy", ""), where
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


ALL_ROUTES = [(m, p) for m, p, _perm in OFFICER_ROUTES] + OTHER_ROUTES


async def _sweep(client: httpx.AsyncClient, who: str) -> int:
    headers = await _csrf(client)
    seen = 0
    for method, path in ALL_ROUTES:
        for extra in ({}, {"HX-Request": "true"}):
            response = await client.request(method, _concrete(path), headers={**headers, **extra},
                                            follow_redirects=False)
            _check(response, f"{who} {method} {path} {extra}")
            seen += 1
    return seen


async def test_every_route_sends_the_security_headers_to_anyone(client):
    assert await _sweep(client, "anonymous") > 250


async def test_every_route_sends_the_security_headers_to_an_admin(client):
    await sign_in_officer(client, "admin", name="Quản Trị Tiêu Đề")
    await _sweep(client, "admin")


async def test_every_route_sends_the_security_headers_to_a_citizen(client, outbox_path):
    await sign_in(client, outbox_path)
    await _sweep(client, "citizen")


@pytest.mark.parametrize("method,path", [("GET", "/khong-co-trang-nay"), ("DELETE", "/kbyt"),
                                         ("POST", "/kbyt/khai-bao")])
async def test_errors_before_routing_carry_the_headers(client, method, path):
    response = await client.request(method, path)  # 404, 405, 403 (no CSRF)
    assert response.status_code >= 400
    _check(response, f"{method} {path}")


async def test_oversized_body_refusal_carries_the_headers(client):
    response = await client.post("/xac-thuc/gui-ma", content=b"x" * (2 * 1024 * 1024),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code in (403, 413)
    _check(response, "oversized")


async def test_hsts_only_on_https(database):
    from dataclasses import replace

    assert "strict-transport-security" not in (await _get(create_app(database), "/")).headers
    https = replace(database, base_url="https://khaibao.example.vn")
    response = await _get(create_app(https), "/", base_url="https://khaibao.example.vn")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def _get(app, path: str, base_url: str = "http://localhost:8000") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return await client.get(path)


async def test_personal_pages_are_never_cached(client, outbox_path):
    await sign_in(client, outbox_path)
    assert (await declare(client, "ref-headers-cache-01")).status_code == 303
    for path in ("/qr", "/kbyt/khai-bao"):
        response = await client.get(path)
        assert response.status_code == 200
        cache = response.headers.get("cache-control", "")
        assert "no-store" in cache or "private" in cache, (path, cache)
