"""The database or the rate-limit store goes away: every page that needs it answers the 503
page that says saved data is safe (never a 500), the outage is logged once rather than once
per request, and readiness (``/healthz``) says 503 while liveness (``/ping``) still answers.
The drivers' own errors are used: asyncpg's for a server that refuses connections or a
backend that was terminated, redis-py's for a Redis that does not answer."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from khaibao.core import db, db_errors, rate_limits
from tests.conftest import TEST_DATABASE_URL
from tests.e2e.conftest import free_port
from tests.helpers import csrf_from, random_mobile

ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
SAFE = "Dữ liệu đã lưu không bị mất"


@pytest.fixture(autouse=True)
def fresh_incidents(monkeypatch):
    monkeypatch.setattr(db_errors, "_last_failure", {}, raising=False)


async def _ask_for_a_code(client):
    token = csrf_from((await client.get("/kbyt")).text)
    return await client.post("/xac-thuc/gui-ma", data={
        "phone": random_mobile(), "next": "/qr", "_csrf_token": token})


def _outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == "khaibao.errors" and r.levelno >= logging.ERROR]


@pytest.mark.skipif(not ON_POSTGRES, reason="asyncpg's connection errors")
async def test_postgresql_refusing_connections_gives_the_503_page(client, monkeypatch, caplog):
    import asyncpg

    engine = db.engine()
    page = await client.get("/kbyt")  # the form, while the database is there
    unreachable = await asyncpg.create_pool(
        f"postgresql://postgres@127.0.0.1:{free_port()}/nothing", min_size=0)
    monkeypatch.setattr(engine, "pool", unreachable)
    caplog.set_level(logging.DEBUG, logger="khaibao.errors")
    answers = [await client.post("/xac-thuc/gui-ma", data={
        "phone": random_mobile(), "next": "/qr", "_csrf_token": csrf_from(page.text)})
        for _ in range(3)]
    health, alive = await client.get("/healthz"), await client.get("/ping")
    monkeypatch.undo()
    await unreachable.close()
    assert [a.status_code for a in answers] == [503] * 3, answers[0].text[-600:]
    assert SAFE in answers[0].text
    assert len(_outage_lines(caplog)) == 1, [r.getMessage() for r in caplog.records]
    assert health.status_code == 503 and alive.status_code == 200
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.skipif(not ON_POSTGRES, reason="asyncpg's connection errors")
async def test_a_terminated_backend_is_recognised_as_an_outage():
    import asyncpg

    victim = await asyncpg.connect(TEST_DATABASE_URL)
    await db.fetch("SELECT pg_terminate_backend({})", victim.get_server_pid())
    for _ in range(100):  # until the client has read the server's goodbye
        if victim.is_closed():
            break
        await asyncio.sleep(0.05)
    with pytest.raises(Exception) as raised:
        await victim.fetch("SELECT 1")
    await victim.close()
    assert isinstance(db_errors.recognise(raised.value), db_errors.DatabaseUnavailable), (
        type(raised.value))


async def test_redis_down_gives_the_503_page_and_readiness_says_so(client, app, caplog):
    settings = app.state.settings
    rate_limits.configure(dataclasses.replace(
        settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    caplog.set_level(logging.DEBUG, logger="khaibao.errors")
    try:
        answers = [await _ask_for_a_code(client) for _ in range(3)]
        health, alive = await client.get("/healthz"), await client.get("/ping")
    finally:
        await rate_limits.close()
        rate_limits.configure(settings)
    assert [a.status_code for a in answers] == [503] * 3, answers[0].text[-600:]
    assert SAFE in answers[0].text
    assert len(_outage_lines(caplog)) == 1, [r.getMessage() for r in caplog.records]
    assert health.status_code == 503 and alive.status_code == 200
    assert (await client.get("/healthz")).status_code == 200
