"""Shared fixtures: one fresh database per test session, on SQLite by default or on
PostgreSQL when ``KHAIBAO_TEST_DATABASE_URL`` is set (``make test`` runs both)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from khaibao import db
from khaibao.app import create_app
from khaibao.settings import Settings

TEST_DATABASE_URL = os.environ.get("KHAIBAO_TEST_DATABASE_URL", "")
BASE_URL = "http://localhost:8000"


def pytest_report_header(config):
    engine = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgres") else "SQLite"
    return f"khaibao test database: {engine}"


async def _reset_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def tmp_session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("khaibao")


@pytest.fixture(scope="session")
def outbox_path(tmp_session_dir: Path) -> Path:
    return tmp_session_dir / "sms-outbox.jsonl"


@pytest.fixture(scope="session")
def settings(tmp_session_dir: Path, outbox_path: Path) -> Settings:
    database_url = TEST_DATABASE_URL or f"sqlite:///{tmp_session_dir / 'test.sqlite3'}"
    return Settings(
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=b"test-secret-key-0123456789abcdef-0123456789",
        sms_backend=f"file:{outbox_path}",
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """A migrated, empty database for the whole session."""
    if not settings.is_sqlite:
        await _reset_postgres(settings.database_url)
    db.configure(settings)
    await db.connect()
    await db.migrate()
    yield settings
    await db.disconnect()


@pytest.fixture
async def client(database: Settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(database)
    async with AsyncTestClient(app=app, base_url=BASE_URL) as test_client:
        yield test_client
    # the app's lifespan closed the process connections; reopen them for service tests
    db.configure(database)
    await db.connect()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
