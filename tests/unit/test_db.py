"""The engine layer: persistent connections, real commits, serialised read-then-write."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from khaibao.core import db
from khaibao.core.db_errors import StorageFull
from khaibao.core.sqlite_engine import BUSY_TIMEOUT_MS
from khaibao.tables import RateCounter


def now():
    return datetime.now(UTC)


async def test_migrated_database_has_no_pending_migrations(database):
    assert await db.pending_migrations() == []
    await db.require_migrated()


async def test_ping(database):
    await db.ping()


async def test_sqlite_keeps_one_connection_per_role(database):
    if not db.is_sqlite():
        pytest.skip("SQLite only")
    engine = db.engine()
    writer, reader = await engine.writer(), await engine.reader()
    for _ in range(3):
        await RateCounter.select().where(RateCounter.key == "nothing").run()
        await RateCounter.insert(
            RateCounter(key=f"conn-{uuid.uuid4()}", window_start=now(), count=1)
        ).run()
    assert await engine.writer() is writer
    assert await engine.reader() is reader


async def test_sqlite_uses_wal_and_busy_timeout(database):
    if not db.is_sqlite():
        pytest.skip("SQLite only")
    engine = db.engine()
    rows = await (await engine.writer()).execute_fetchall("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"
    rows = await (await engine.writer()).execute_fetchall("PRAGMA busy_timeout")
    assert rows[0]["timeout"] == BUSY_TIMEOUT_MS


async def test_write_outside_transaction_is_committed_and_visible_to_a_new_connection(
    database,
):
    key = f"commit-{uuid.uuid4()}"
    await RateCounter.insert(RateCounter(key=key, window_start=now(), count=7)).run()
    # A brand-new engine (as another process would have) sees the row.
    other = db.create_engine(database)
    assert await _count_with(other, key) == 7


async def _count_with(engine, key):
    from piccolo.querystring import QueryString

    if hasattr(engine, "close"):
        result = await engine.run_querystring(
            QueryString("SELECT count FROM rate_counter WHERE key = {}", key)
        )
        await engine.close()
    else:
        await engine.start_connection_pool()
        result = await engine.run_querystring(
            QueryString("SELECT count FROM rate_counter WHERE key = {}", key)
        )
        await engine.close_connection_pool()
    return result[0]["count"]


async def test_transaction_rolls_back_on_error(database):
    key = f"rollback-{uuid.uuid4()}"
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await RateCounter.insert(RateCounter(key=key, window_start=now(), count=1)).run()
            raise RuntimeError("boom")
    assert not await RateCounter.exists().where(RateCounter.key == key).run()


async def test_concurrent_read_then_write_transactions_do_not_lose_updates(database):
    key = f"counter-{uuid.uuid4()}"
    await RateCounter.insert(RateCounter(key=key, window_start=now(), count=0)).run()

    async def increment():
        async with db.write_transaction():
            row = await db.for_update(
                RateCounter.select(RateCounter.count).where(RateCounter.key == key)
            ).first().run()
            await RateCounter.update({RateCounter.count: row["count"] + 1}).where(
                RateCounter.key == key
            ).run()

    await asyncio.gather(*(increment() for _ in range(50)))
    row = await RateCounter.select(RateCounter.count).where(RateCounter.key == key).first().run()
    assert row["count"] == 50


async def test_reads_do_not_wait_for_an_open_write_transaction(database):
    if not db.is_sqlite():
        pytest.skip("SQLite reader/writer split")
    key = f"reader-{uuid.uuid4()}"
    await RateCounter.insert(RateCounter(key=key, window_start=now(), count=1)).run()
    started = asyncio.Event()
    release = asyncio.Event()

    async def long_writer():
        async with db.write_transaction():
            await RateCounter.update({RateCounter.count: 2}).where(RateCounter.key == key).run()
            started.set()
            await release.wait()

    task = asyncio.create_task(long_writer())
    await started.wait()
    row = await asyncio.wait_for(
        RateCounter.select(RateCounter.count).where(RateCounter.key == key).first().run(), 2
    )
    assert row["count"] == 1  # the uncommitted update is not visible
    release.set()
    await task
    row = await RateCounter.select(RateCounter.count).where(RateCounter.key == key).first().run()
    assert row["count"] == 2


_INSERT_COUNTER = ('INSERT INTO rate_counter ("key", window_start, "count") VALUES ({}, {}, {}) '
                   'RETURNING "count"')


async def _holding_the_writer():
    """A write transaction that holds the writer until the returned event is set."""
    release, holding = asyncio.Event(), asyncio.Event()

    async def hold_writer():
        async with db.write_transaction():
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_writer())
    await holding.wait()
    return release, holder


async def _queued_behind_a_transaction(writes):
    """Start ``writes`` while a write transaction holds the writer, so they queue up and
    run as one batch when it ends (on PostgreSQL they simply run)."""
    release, holder = await _holding_the_writer()
    tasks = [asyncio.create_task(write) for write in writes]
    await asyncio.sleep(0.05)
    release.set()
    await holder
    return tasks


async def test_queued_writes_commit_together_and_each_caller_gets_its_own_rows(database):
    keys = [f"batch-{uuid.uuid4()}" for _ in range(20)]
    tasks = await _queued_behind_a_transaction(
        db.execute(_INSERT_COUNTER, key, now(), n) for n, key in enumerate(keys))
    results = await asyncio.gather(*tasks)
    assert [rows[0]["count"] for rows in results] == list(range(20))
    other = db.create_engine(database)  # committed: another connection sees every row
    assert await _count_with(other, keys[-1]) == 19


async def test_one_failing_write_in_a_batch_fails_alone(database):
    taken = f"batch-taken-{uuid.uuid4()}"
    await db.execute(_INSERT_COUNTER, taken, now(), 1)
    fresh = [f"batch-ok-{uuid.uuid4()}" for _ in range(3)]
    tasks = await _queued_behind_a_transaction([
        db.execute(_INSERT_COUNTER, fresh[0], now(), 5),
        db.execute(_INSERT_COUNTER, taken, now(), 9),  # primary key taken: this one fails
        db.execute(_INSERT_COUNTER, fresh[1], now(), 6),
        db.execute(_INSERT_COUNTER, fresh[2], now(), 7),
    ])
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert [o[0]["count"] for o in (outcomes[0], outcomes[2], outcomes[3])] == [5, 6, 7]
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], StorageFull)
    rows = await db.fetch('SELECT "key", "count" FROM rate_counter WHERE "key" IN ({}, {}, {}, {})',
                          taken, *fresh)
    assert {r["key"]: r["count"] for r in rows} == {taken: 1, fresh[0]: 5, fresh[1]: 6,
                                                     fresh[2]: 7}


async def test_a_cancelled_caller_does_not_strand_the_rest_of_its_batch(database):
    keys = [f"batch-cancel-{uuid.uuid4()}" for _ in range(3)]
    release, holder = await _holding_the_writer()
    first = asyncio.create_task(db.execute(_INSERT_COUNTER, keys[0], now(), 1))
    rest = [asyncio.create_task(db.execute(_INSERT_COUNTER, k, now(), 2)) for k in keys[1:]]
    await asyncio.sleep(0.02)
    first.cancel()  # the caller that started the batch goes away (a closed connection)
    release.set()
    await holder
    results = await asyncio.wait_for(asyncio.gather(*rest), 5)
    assert [rows[0]["count"] for rows in results] == [2, 2]


async def test_processes_take_the_writer_file_lock_in_turn(tmp_path):
    """Two processes' writers (two lock files opened separately) exclude each other; the
    waiting one gets the lock as soon as it is free, and a cancelled waiter holds nothing."""
    from khaibao.core.sqlite_engine import _FileLock

    first, second = _FileLock(str(tmp_path / "x-writer.lock")), _FileLock(
        str(tmp_path / "x-writer.lock"))
    await first.acquire()
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # held by the other
    first.release()
    await asyncio.wait_for(waiting, 0.05)  # promptly, not after a back-off
    assert second.held
    cancelled = asyncio.create_task(first.acquire())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert not first.held
    second.release()
    await asyncio.wait_for(first.acquire(), 0.05)
    first.close()
    second.close()


async def test_statistics_of_small_tables_are_forgotten_when_the_writer_opens(tmp_path):
    """Taken while a table was nearly empty, they made SQLite scan a whole table as it grew;
    without them the planner assumes a large table and uses its indexes."""
    import sqlite3

    from khaibao.core.sqlite_engine import PersistentSQLiteEngine

    path = tmp_path / "stats.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, v INTEGER)")
    connection.execute("CREATE INDEX small_v ON small (v)")
    connection.execute("INSERT INTO small (v) VALUES (1)")
    connection.execute("ANALYZE")
    connection.execute("INSERT INTO sqlite_stat1 VALUES ('large', 'large_v', '250000 3')")
    connection.commit()
    connection.close()
    engine = PersistentSQLiteEngine(str(path))
    writer = await engine.writer()
    rows = await writer.execute_fetchall("SELECT tbl, stat FROM sqlite_stat1")
    assert [(r["tbl"], r["stat"]) for r in rows] == [("large", "250000 3")]
    await engine.close()


async def test_sqlite_files_are_private(tmp_path):
    """The database, its WAL and shared-memory files and the writer lock are created 0600
    (like the secret key beside them), whatever the umask; a file made 0644 by an older
    version is tightened when it is opened."""
    import os
    import stat

    from khaibao.core.sqlite_engine import PersistentSQLiteEngine

    old_mask = os.umask(0o022)
    try:
        engine = PersistentSQLiteEngine(str(tmp_path / "private.sqlite3"))
        writer = await engine.writer()
        await writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        await writer.execute("INSERT INTO t DEFAULT VALUES")
        await writer.commit()
        await engine.reader()
        engine.fast_reader().execute("SELECT * FROM t").fetchall()
        await engine.file_lock.acquire()
        engine.file_lock.release()
        names = ["private.sqlite3", "private.sqlite3-wal", "private.sqlite3-shm",
                 "private.sqlite3-writer.lock"]
        modes = {name: stat.S_IMODE(os.stat(tmp_path / name).st_mode) for name in names}
        assert modes == dict.fromkeys(names, 0o600)
        await engine.close()
        legacy = tmp_path / "legacy.sqlite3"
        legacy.touch(mode=0o644)
        os.chmod(legacy, 0o644)
        engine = PersistentSQLiteEngine(str(legacy))
        await engine.writer()
        assert stat.S_IMODE(os.stat(legacy).st_mode) == 0o600
        await engine.close()
    finally:
        os.umask(old_mask)
