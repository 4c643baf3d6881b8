"""Shared fixtures: one fresh database per test session, on SQLite by default or on
PostgreSQL when ``KHAIBAO_TEST_DATABASE_URL`` is set (``make test`` runs both)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from litestar import Litestar

from khaibao.app import create_app
from khaibao.core import db
from khaibao.core.settings import Settings

TEST_DATABASE_URL = os.environ.get("KHAIBAO_TEST_DATABASE_URL", "")

# Property tests: a bounded number of examples, and no per-example deadline (on a busy 2-core
# machine a slow example is not a failing one); a failure prints the blob that replays it.
hypothesis_settings.register_profile("khaibao", max_examples=100, deadline=None, print_blob=True)
hypothesis_settings.load_profile("khaibao")
BASE_URL = "http://localhost:8000"


def pytest_report_header(config):
    engine = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgres") else "SQLite"
    return f"khaibao test database: {engine}"


async def _create_postgres_database(url: str) -> str:
    """A new, empty database beside the one in ``url``: concurrent test runs never meet."""
    import asyncpg

    name = f"khaibao_test_{os.getpid()}_{secrets.token_hex(3)}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _drop_postgres_database(base_url: str, url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(base_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def tmp_session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("khaibao")


@pytest.fixture(scope="session")
def outbox_path(tmp_session_dir: Path) -> Path:
    return tmp_session_dir / "sms-outbox.jsonl"


@pytest.fixture(scope="session")
async def database_url(tmp_session_dir: Path) -> AsyncIterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_session_dir / 'test.sqlite3'}"
        return
    url = await _create_postgres_database(TEST_DATABASE_URL)
    yield url
    await _drop_postgres_database(TEST_DATABASE_URL, url)


@pytest.fixture(scope="session")
def settings(tmp_session_dir: Path, outbox_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=b"test-secret-key-0123456789abcdef-0123456789",
        sms_backend=f"file:{outbox_path}",
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """A migrated, empty database for the whole session."""
    from khaibao.regions import regions

    db.configure(settings)
    await db.connect()
    await db.migrate()
    await regions.ensure_vietnam_loaded()
    yield settings
    await db.disconnect()


@pytest.fixture(scope="session")
def app(database: Settings) -> Litestar:
    """The app, built once per test run (building it compiles every template); a test that
    needs other settings builds its own with ``create_app``."""
    return create_app(database)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, run in the tests' own event loop on the session's
    connections (the app's start-up and shutdown are exercised by the browser tests)."""
    # Each test is its own client address: per-address limits (OTP sends) never carry over
    # from one test to the next.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as test_client:
        yield test_client


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
