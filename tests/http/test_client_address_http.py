"""Who the client is, for per-address limits: behind trusted reverse proxies the address they
forwarded (hypercorn's ProxyFixMiddleware via ``core.proxies``), from any other peer the peer
itself; an IPv6 /64 is one client.

The proxy tests serve the app with hypercorn on a real socket behind a small forwarder that
adds ``X-Forwarded-For`` as nginx's ``$proxy_add_x_forwarded_for`` does; each browser
connects from its own loopback address (127.x.y.z), so the forwarder sees them apart."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from khaibao.citizens import otp
from khaibao.core.proxies import behind_proxies
from khaibao.routes.officers import passkeys as officer_auth
from tests.helpers import csrf_from, csrf_headers, random_mobile

HOST = "localhost:8000"  # the base URL's host: the app answers no other


def _client_at(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}")


async def _ceremony_from(app, address: str) -> int:
    async with _client_at(app, address) as client:
        page = await client.get("/can-bo/dang-nhap")
        headers = {**csrf_headers(page.text), "content-type": "application/json"}
        return (await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)).status_code


async def test_ipv6_addresses_of_one_64_are_one_client(app, monkeypatch):
    """Rotating the interface id inside a /64 (any address of the subscriber's prefix) does
    not buy more passkey ceremonies; another /64 is another client."""
    monkeypatch.setattr(officer_auth, "CEREMONY_LIMIT", 3)
    prefix = f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}"
    rotating = [f"{prefix}:{secrets.randbelow(65536):x}::{n + 1:x}" for n in range(5)]
    assert [await _ceremony_from(app, a) for a in rotating] == [200, 200, 200, 429, 429]
    neighbour = f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}::1"
    assert await _ceremony_from(app, neighbour) == 200


# --- behind a forwarder -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _without_lifespan(app):
    """The test session already opened the database: the served app skips start-up."""
    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)
    return asgi


def _forwarder(upstream: str):
    """A reverse proxy as the README configures nginx: the Host unchanged, the peer's
    address appended to X-Forwarded-For."""
    hop_by_hop = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length",
                  b"accept-encoding", b"x-forwarded-for"}

    async def asgi(scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        forwarded = [v.decode() for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
        headers = [(k.decode("latin1"), v.decode("latin1")) for k, v in scope["headers"]
                   if k.lower() not in hop_by_hop]
        headers.append(("x-forwarded-for", ", ".join([*forwarded, scope["client"][0]])))
        headers.append(("accept-encoding", "identity"))
        target = upstream + scope["raw_path"].decode() + (
            "?" + scope["query_string"].decode() if scope["query_string"] else "")
        async with httpx.AsyncClient() as client:
            answer = await client.request(scope["method"], target, headers=headers,
                                          content=body)
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(k, v) for k, v in answer.headers.raw
                                if k.lower() not in hop_by_hop | {b"content-encoding"}]})
        await send({"type": "http.response.body", "body": answer.content})
    return _without_lifespan(asgi)


@contextlib.asynccontextmanager
async def _served(app) -> AsyncIterator[str]:
    config = Config()
    port = _free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as probe:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                await probe.get(url + "/ping", headers={"host": HOST})
                break
            await asyncio.sleep(0.02)
    try:
        yield url
    finally:
        stop.set()
        await task


@pytest.fixture
async def behind_forwarder(app, database):
    """The app trusting the forwarder's address (127.0.0.1) only; yields the app's own URL
    (for peers that skip the forwarder) and the forwarder's."""
    trusting = replace(database, forwarded_allow=("127.0.0.1/32",))
    async with _served(_without_lifespan(behind_proxies(app, trusting))) as direct, \
            _served(_forwarder(direct)) as proxy:
        yield direct, proxy


class Browser:
    """One person's browser, connecting from its own address."""

    def __init__(self, url: str, address: str):
        transport = httpx.AsyncHTTPTransport(local_address=address)
        self.client = httpx.AsyncClient(transport=transport, base_url=url,
                                        headers={"host": HOST})
        self.token = ""

    async def ask_code(self, **headers: str) -> httpx.Response:
        if not self.token:
            self.token = csrf_from((await self.client.get("/kbyt")).text)
        return await self.client.post("/xac-thuc/gui-ma", headers=headers, data={
            "phone": random_mobile(), "next": "/qr", "_csrf_token": self.token})

    async def aclose(self) -> None:
        await self.client.aclose()


def _loopback() -> str:
    return f"127.{secrets.randbelow(250) + 2}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


TOO_MANY = "Có quá nhiều yêu cầu gửi mã từ mạng của bạn"


async def test_one_clients_abuse_behind_the_proxy_does_not_touch_another(
        behind_forwarder, monkeypatch):
    monkeypatch.setattr(otp, "SENDS_PER_IP_PER_HOUR", 3)
    _direct, proxy = behind_forwarder
    abuser, neighbour = Browser(proxy, _loopback()), Browser(proxy, _loopback())
    try:
        asked = [await abuser.ask_code() for _ in range(3)]
        assert [a.status_code for a in asked] == [200, 200, 200]
        refused = await abuser.ask_code()
        assert refused.status_code == 422 and TOO_MANY in refused.text
        # A forged X-Forwarded-For comes before the proxy's own entry: never read.
        forged = await abuser.ask_code(**{"X-Forwarded-For": _loopback()})
        assert forged.status_code == 422 and TOO_MANY in forged.text
        # Another person behind the same proxy still gets their code.
        other = await neighbour.ask_code()
        assert other.status_code == 200 and TOO_MANY not in other.text
    finally:
        await abuser.aclose()
        await neighbour.aclose()


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(behind_forwarder, monkeypatch):
    """A peer that is not a listed proxy cannot pose as many clients by X-Forwarded-For."""
    monkeypatch.setattr(otp, "SENDS_PER_IP_PER_HOUR", 3)
    direct, _proxy = behind_forwarder
    browser = Browser(direct, _loopback())
    try:
        answers = [await browser.ask_code(**{"X-Forwarded-For": _loopback()})
                   for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 422]
        assert TOO_MANY in answers[-1].text
    finally:
        await browser.aclose()
