"""Disk full on SQLite: a declaration that cannot be written gets a clear answer (507, in
Vietnamese), is rolled back whole, and nothing saved before is lost. SQLite's
``max_page_count`` stands in for a full disk: it fails writes with the same SQLITE_FULL."""

import sqlite3
import uuid

import pytest

from khaibao.core import db
from khaibao.tables import HealthDeclaration
from tests.http.test_citizen import declare, sign_in

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("KHAIBAO_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="SQLite's disk-full behaviour")


async def test_a_full_disk_refuses_the_write_clearly_and_loses_nothing(client, outbox_path):
    await sign_in(client, outbox_path)
    first = await declare(client, uuid.uuid4().hex)
    assert first.status_code == 303
    before = await HealthDeclaration.count()
    pages = (await db.fetch("PRAGMA page_count"))[0]["page_count"]
    await db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        answers = []
        for _ in range(300):  # until the free space inside the file is used up
            answer = await declare(client, uuid.uuid4().hex)
            answers.append(answer.status_code)
            if answer.status_code != 303:
                break
    finally:
        await db.execute("PRAGMA max_page_count = 4294967294")
    assert answers[-1] == 507, answers[-5:]
    assert "Máy chủ đã hết chỗ lưu trữ" in answer.text
    assert "Dữ liệu đã lưu trước đó không bị mất" in answer.text
    saved = answers.count(303)
    # Every acknowledged declaration is there, the refused one is not (rolled back whole).
    assert await HealthDeclaration.count() == before + saved
    after = await declare(client, uuid.uuid4().hex)  # and writing works again once there is room
    assert after.status_code == 303


async def test_a_commit_refused_for_lack_of_space_gives_the_507_page(client, outbox_path,
                                                                     monkeypatch):
    """On a really full disk SQLite fails the COMMIT itself (the WAL cannot grow) and has
    already rolled the transaction back, so a second ROLLBACK raises: that must not hide
    the full disk behind a 500. A declaration that adds a person runs in a transaction."""
    from khaibao.core import sqlite_engine

    await sign_in(client, outbox_path)
    before = await HealthDeclaration.count()

    async def commit_on_a_full_disk(transaction):
        await transaction.connection.execute("ROLLBACK")  # what SQLite itself does
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise error

    monkeypatch.setattr(sqlite_engine._PersistentTransaction, "commit", commit_on_a_full_disk)
    answer = await declare(client, uuid.uuid4().hex)
    monkeypatch.undo()
    assert answer.status_code == 507, answer.text[-500:]
    assert "Máy chủ đã hết chỗ lưu trữ" in answer.text
    assert await HealthDeclaration.count() == before
    # readiness says no while writes are refused; liveness is another question
    assert (await client.get("/healthz")).status_code == 503
    assert (await client.get("/ping")).status_code == 200
    assert (await declare(client, uuid.uuid4().hex)).status_code == 303
    assert (await client.get("/healthz")).status_code == 200  # a write succeeded: ready again
