"""The guard sweep: every registered route under /kiemtra, /quan-tri and /can-bo refuses
anyone who is not a signed-in officer with the right role.

Routes are discovered from the app itself, so controllers added later are covered without
touching this file. Only the public passkey endpoints (sign-in, enrollment by one-time link,
sign-out) are exempt, and Litestar's automatic OPTIONS answers (no handler code runs).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable

import httpx
import pytest
from litestar import Litestar, Request, get, post
from litestar.routes import HTTPRoute

from khaibao.app import create_app
from khaibao.core import sessions
from tests.helpers import csrf_from, sign_in_officer

PREFIXES = ("/kiemtra", "/quan-tri", "/can-bo")
# Must work without an officer session: passkey sign-in, enrollment by link, sign-out.
PUBLIC = ("/can-bo/dang-nhap", "/can-bo/dang-ky", "/can-bo/dang-xuat")
SAFE_METHODS = {"GET", "HEAD"}
OFFICER_COOKIE = "khaibao_officer"
CITIZEN_COOKIE = "khaibao_session"
BASE_URL = "http://localhost:8000"


def guarded_endpoints(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every officer-side endpoint, sorted."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(PREFIXES):
            continue
        if route.path.startswith(PUBLIC):
            continue
        for method in route.methods:
            if method != "OPTIONS":
                found.add((method, route.path))
    return sorted(found, key=lambda item: (item[1], item[0]))


def _fill(match: re.Match) -> str:
    kind = match.group(2) or "str"
    if kind == "int":
        return "1"
    if kind == "uuid":
        return str(uuid.uuid4())
    return secrets.token_urlsafe(12)


def concrete(path: str) -> str:
    """A plausible URL for a path template: ints become 1, strings random tokens."""
    return re.sub(r"\{(\w+)(?::(\w+))?\}", _fill, path)


def under(endpoints: Iterable[tuple[str, str]], *prefixes: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p in endpoints if p.startswith(prefixes)]


async def csrf_token(client: httpx.AsyncClient) -> str:
    """A valid CSRF token (and its cookie) from a public page with a form."""
    return csrf_from((await client.get("/kbyt", follow_redirects=True)).text)


async def call(client: httpx.AsyncClient, method: str, path: str, token: str) -> httpx.Response:
    """Call the endpoint; unsafe methods carry a valid CSRF token, so only the guard refuses."""
    url = concrete(path)
    if method in SAFE_METHODS:
        return await client.request(method, url, follow_redirects=False)
    return await client.request(method, url, data={"_csrf_token": token},
                                headers={"x-csrftoken": token}, follow_redirects=False)


async def refusals(client: httpx.AsyncClient, endpoints: Iterable[tuple[str, str]],
                   allowed: set[int]) -> list[str]:
    """Every endpoint whose answer is not one of ``allowed``, described for the failure."""
    token = await csrf_token(client)
    wrong = []
    for method, path in endpoints:
        response = await call(client, method, path, token)
        if response.status_code not in allowed:
            wrong.append(f"{method} {path} → {response.status_code}")
    return wrong


@pytest.fixture
async def app(database):
    """An app of this test's own: the self-test below registers unguarded routes on it."""
    return create_app(database)


@pytest.fixture
async def endpoints(app):
    found = guarded_endpoints(app)
    # the sweep is not vacuous: at least the admin pages are there
    assert ("GET", "/quan-tri/can-bo") in found and ("POST", "/quan-tri/chot") in found
    return found


def new_client(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40001)),
                             base_url=BASE_URL)


async def test_anonymous_is_refused_everywhere(app, endpoints):
    async with new_client(app) as client:
        wrong = await refusals(client, endpoints, {401, 403})
    assert not wrong, "answered an anonymous request:\n" + "\n".join(wrong)


async def test_anonymous_htmx_is_refused_everywhere(app, endpoints):
    async with new_client(app) as client:
        client.headers["HX-Request"] = "true"
        wrong = await refusals(client, endpoints, {401, 403})
    assert not wrong, "answered an anonymous htmx request:\n" + "\n".join(wrong)


async def test_a_citizen_is_not_an_officer(app, endpoints, outbox_path):
    from tests.http.test_citizen import sign_in

    async with new_client(app) as client:
        await sign_in(client, outbox_path)
        citizen_cookie = client.cookies.get(CITIZEN_COOKIE)
        assert citizen_cookie and (await sessions.load(citizen_cookie)).kind == "citizen"
        wrong = await refusals(client, endpoints, {401, 403})
        assert not wrong, "answered a citizen session:\n" + "\n".join(wrong)
        # the citizen's session id put into the officer cookie is no officer session
        client.cookies.delete(CITIZEN_COOKIE)
        client.cookies.set(OFFICER_COOKIE, citizen_cookie)
        wrong = await refusals(client, endpoints, {401})
        assert not wrong, "took a citizen session as an officer's:\n" + "\n".join(wrong)


async def test_forged_and_stale_officer_cookies(app, endpoints):
    async with new_client(app) as client:
        client.cookies.set(OFFICER_COOKIE, secrets.token_urlsafe(32))
        wrong = await refusals(client, endpoints, {401})
        assert not wrong, "took a made-up officer cookie:\n" + "\n".join(wrong)
    async with new_client(app) as client:
        officer = await sign_in_officer(client, "admin")
        await sessions.end_all("officer", officer.id)
        wrong = await refusals(client, endpoints, {401})
        assert not wrong, "took an ended officer session:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("role", "prefixes", "options"), [
    ("venue", ("/kiemtra", "/quan-tri/can-bo"), {}),
    ("checkpoint", ("/quan-tri/",), {}),
    ("local", ("/quan-tri/can-bo",), {"region_code": "VN-46"}),
    ("health", ("/quan-tri/can-bo", "/quan-tri/chot", "/quan-tri/chinh-sach"), {}),
])
async def test_roles_without_the_permission_get_403(app, endpoints, role, prefixes, options):
    chosen = under(endpoints, *prefixes)
    assert len(chosen) >= 3, f"only {chosen} under {prefixes}: the sweep would prove nothing"
    async with new_client(app) as client:
        await sign_in_officer(client, role, **options)
        wrong = await refusals(client, chosen, {403})
    assert not wrong, f"a {role} officer was let through:\n" + "\n".join(wrong)


async def test_a_disabled_officer_is_signed_out(app):
    from khaibao.officers import officers

    async with new_client(app) as client:
        officer = await sign_in_officer(client, "admin")
        assert (await client.get("/quan-tri/chot")).status_code == 200
        await officers.set_active(officer.id, False)
        assert (await client.get("/quan-tri/chot")).status_code == 401


async def test_the_sweep_catches_an_unguarded_route(app):
    """Self-test: a route someone forgot to guard is reported."""

    @get("/quan-tri/quen-bao-ve", sync_to_thread=False)
    def forgotten(request: Request) -> str:
        return "lộ dữ liệu"

    @post("/kiemtra/quen-bao-ve/{item:int}", sync_to_thread=False)
    def forgotten_post(request: Request, item: int) -> str:
        return "đã ghi"

    app.register(forgotten)
    app.register(forgotten_post)
    found = guarded_endpoints(app)
    assert ("GET", "/quan-tri/quen-bao-ve") in found
    assert ("POST", "/kiemtra/quen-bao-ve/{item:int}") in found
    async with new_client(app) as client:
        wrong = await refusals(client, found, {401, 403})
    assert sorted(wrong) == ["GET /quan-tri/quen-bao-ve → 200",
                             "POST /kiemtra/quen-bao-ve/{item:int} → 201"]
