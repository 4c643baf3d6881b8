"""SQLite for one process: one writer connection (behind an asyncio lock, so a transaction
owns it until it ends), one reader connection (WAL lets it read while the writer writes) and
a synchronous fast reader for ``db.fetch`` in the event loop's own thread.

Writes outside a transaction are queued while the writer is busy and committed together
(group commit, :meth:`PersistentSQLiteEngine.write_alone`); ``write_transaction()`` opens
``BEGIN IMMEDIATE`` so a read-then-write never fails half-way on a lock upgrade. Several
processes share the file through SQLite's own locking, with a busy timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from khaibao.core import db_errors
from khaibao.core.db_errors import DatabaseUnavailable, StorageFull

BUSY_TIMEOUT_MS = 10_000


# Reads of a big file: map it into memory (no read() per page; the OS page cache is shared by
# every connection and process) and keep 32 MB of hot pages per connection.
_READ_PRAGMAS = ("PRAGMA mmap_size = 17179869184", "PRAGMA cache_size = -32768")


class _FileLock:
    """Taken by every process of this database before it writes: ``flock`` on
    ``{database}-writer.lock``. Without it several server processes meet on SQLite's own
    lock, whose busy handler sleeps 1 … 100 ms between tries, and under load one process
    was starved of writes (half the throughput, seconds of latency). Polled without
    blocking: waiting never blocks the event loop and a cancelled waiter holds nothing.
    After the busy timeout it gives up and leaves the wait to SQLite's own lock."""

    POLL_SECONDS = 0.0005

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.held = False

    async def acquire(self) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(self.POLL_SECONDS)

    def release(self) -> None:
        if self.held and self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.held = False

    def close(self) -> None:
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# Statistics taken while a table had a handful of rows mislead the planner once it grows: a
# CLI command closing on a new database runs PRAGMA optimize, and with "1 row" recorded for
# health_declaration SQLite scanned every declaration for the scan's "latest declaration"
# join (≈ 4× slower after 12 k declarations, linear from there). Small tables keep no
# statistics: the planner then assumes they are large and uses their indexes.
_FORGET_SMALL_TABLE_STATS = "DELETE FROM sqlite_stat1 WHERE CAST(stat AS INTEGER) < 10000"


async def _forget_small_table_statistics(connection: aiosqlite.Connection) -> None:
    try:
        await connection.execute(_FORGET_SMALL_TABLE_STATS)
        await connection.execute("ANALYZE sqlite_schema")  # this connection reloads them
    except sqlite3.OperationalError:
        pass  # no statistics at all (never analysed), or busy: the next start tries again


def _full(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


class _PersistentTransaction(SQLiteTransaction):
    """A transaction on the process's writer connection, holding its lock until the end."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        # Piccolo types the engine as its own SQLiteEngine; only ours makes this transaction.
        engine: PersistentSQLiteEngine = self.engine  # type: ignore[assignment]
        self._owned = engine._writing()  # the writer's locks, held until __aexit__
        self.connection = await self._owned.__aenter__()
        try:
            await self.begin()
        except BaseException as error:
            await self._owned.__aexit__(type(error), error, error.__traceback__)
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        # Piccolo types the engine as its own SQLiteEngine; only ours makes this transaction.
        engine: PersistentSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if exception is not None or self._rolled_back:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed:
                try:
                    await self.commit()
                except BaseException as error:
                    # A COMMIT refused for lack of space has already been rolled back by
                    # SQLite: a second ROLLBACK would raise and hide the full disk.
                    await self._rollback_if_open()
                    if isinstance(error, sqlite3.Error) and _full(error):
                        raise StorageFull(str(error)) from error
                    raise
                db_errors.write_succeeded()
        finally:
            engine.current_transaction.reset(self.context)
            await self._owned.__aexit__(None, None, None)
        return exception is None

    async def _rollback_if_open(self) -> None:
        if self.connection.in_transaction:
            try:
                await self.rollback()
            except sqlite3.Error:
                pass  # the connection is closing or SQLite already ended it


class PersistentSQLiteEngine(SQLiteEngine):
    """SQLite with one writer and one reader connection kept open for the process."""

    def __init__(self, path: str) -> None:
        super().__init__(path=path, timeout=BUSY_TIMEOUT_MS / 1000)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self.writer_lock = asyncio.Lock()
        self._fast: sqlite3.Connection | None = None
        self._queued: list[tuple[str, list, asyncio.Future]] = []
        self._flushing: set[asyncio.Task] = set()
        self.file_lock = _FileLock(f"{path}-writer.lock")

    def fast_reader(self) -> sqlite3.Connection:
        """A synchronous read connection for :func:`fetch` (used in the loop's thread)."""
        if self._fast is None:
            self._private_file()
            kwargs = {k: v for k, v in self.connection_kwargs.items() if k != "timeout"}
            connection = sqlite3.connect(**kwargs, timeout=BUSY_TIMEOUT_MS / 1000,
                                         check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA query_only = ON")
            for pragma in _READ_PRAGMAS:
                connection.execute(pragma)
            self._fast = connection
        return self._fast

    def _private_file(self) -> None:
        """Create the database file 0600 before SQLite does (its WAL and shared-memory files
        take the database file's mode), or tighten one an older version made 0644."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Only a file that does not exist yet is opened (and closed) here: closing any
        # descriptor of the database would drop this process's SQLite locks on it.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path + suffix).st_mode & 0o077:
                    os.chmod(self.path + suffix, 0o600)

    async def _open(self) -> aiosqlite.Connection:
        self._private_file()
        connection = None
        try:
            # Opened here first: a file that cannot be opened (a directory, no permission)
            # fails now, before aiosqlite starts a thread that would outlive the failure.
            sqlite3.connect(**self.connection_kwargs).close()
            connection = await aiosqlite.connect(**self.connection_kwargs)
            # aiosqlite types row_factory as a class; sqlite3 takes any (cursor, row) callable.
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            for pragma in _READ_PRAGMAS:
                await connection.execute(pragma)
        except (sqlite3.Error, OSError) as error:
            if connection is not None:  # its thread must not outlive the failure
                await connection.close()
            raise DatabaseUnavailable(f"SQLite file {self.path}: {error}") from error
        return connection

    async def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            async with self._open_lock:
                if self._writer is None:
                    writer = await self._open()
                    await _forget_small_table_statistics(writer)
                    self._writer = writer
        return self._writer

    async def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._open_lock:
                if self._reader is None:
                    self._reader = await self._open()
        return self._reader

    async def close(self) -> None:
        if self._flushing:  # queued writes finish (and answer their callers) first
            await asyncio.gather(*self._flushing, return_exceptions=True)
        if self._writer is not None:
            # SQLite's advice for long-lived connections: refresh the planner's statistics
            # where they are stale (bounded work), so indexes keep being chosen well.
            try:
                await self._writer.execute("PRAGMA analysis_limit = 400")
                await self._writer.execute("PRAGMA optimize")
                await _forget_small_table_statistics(self._writer)
            except sqlite3.Error:
                pass  # statistics are an optimisation; closing must not fail for them
        for connection in (self._writer, self._reader):
            if connection is not None:
                await connection.close()
        if self._fast is not None:
            self._fast.close()
        self.file_lock.close()
        self._writer = self._reader = self._fast = None
        # fresh locks: the next connect may happen in another event loop (tests do that)
        self._open_lock = asyncio.Lock()
        self.writer_lock = asyncio.Lock()

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.writer()

    async def _execute(self, connection, query: str, args: list[Any] | None) -> list[dict]:
        # One hop to aiosqlite's thread (execute + fetchall + close there), not three.
        try:
            return list(await connection.execute_fetchall(query, args or []))
        except sqlite3.OperationalError as error:
            if _full(error):
                raise StorageFull(str(error)) from error
            raise

    async def write_alone(self, text: str, params: list) -> list[dict]:
        """One write outside any transaction (group commit). Writes that arrive while the
        writer is busy wait together and then run in one hop to the writer thread and one
        commit, each in its own savepoint, so one failing statement fails alone and every
        caller still gets its own rows or error only once its write is committed."""
        future = asyncio.get_running_loop().create_future()
        self._queued.append((text, params, future))
        if len(self._queued) == 1:  # the first of a batch flushes it, in a task of its own:
            task = asyncio.create_task(self._flush())  # a cancelled caller can't strand it
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)
        return await future

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer, owned: this process's writer lock, then every process's file lock."""
        async with self.writer_lock:
            connection = await self.writer()
            await self.file_lock.acquire()
            try:
                yield connection
            finally:
                self.file_lock.release()

    async def _flush(self) -> None:
        batch: list = []
        try:
            async with self._writing() as connection:
                batch, self._queued = self._queued, []
                outcomes = await connection._execute(
                    _write_batch, connection._conn, [(t, p) for t, p, _ in batch])
        except BaseException as error:  # the writer itself failed: every caller hears it
            if not batch:
                batch, self._queued = self._queued, []
            outcomes = [(None, error)] * len(batch)
        for (_text, _params, future), (rows, failure) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if failure is None:
                future.set_result(list(rows))
                db_errors.write_succeeded()
            elif isinstance(failure, sqlite3.Error) and _full(failure):
                future.set_exception(StorageFull(str(failure)))
            else:
                future.set_exception(failure)

    async def _run_in_new_connection(
        self, query: str, args=None, query_type: str = "generic", table=None
    ):
        """Outside a transaction: reads go to the reader, writes to the locked writer."""
        if _is_read_only(query):
            return await self._execute(await self.reader(), query, args)
        async with self._writing() as connection:
            return await self._execute(connection, query, args)

    async def _run_in_existing_connection(
        self, connection, query: str, args=None, query_type: str = "generic", table=None
    ):
        return await self._execute(connection, query, args)

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PersistentTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


_Outcome = tuple[list | None, BaseException | None]


def _write_batch(connection: sqlite3.Connection, batch: list[tuple[str, list]]
                 ) -> list[_Outcome]:
    """Run in the writer's thread: one statement alone (autocommit), or several in one
    transaction with a savepoint each. A failed BEGIN or COMMIT fails the whole batch."""
    if len(batch) == 1:
        text, params = batch[0]
        try:
            return [(connection.execute(text, params).fetchall(), None)]
        except sqlite3.Error as error:
            return [(None, error)]
    outcomes: list[_Outcome] = []
    try:
        connection.execute("BEGIN IMMEDIATE")
        for text, params in batch:
            connection.execute("SAVEPOINT batched_write")
            try:
                outcomes.append((connection.execute(text, params).fetchall(), None))
            except sqlite3.Error as error:
                connection.execute("ROLLBACK TO batched_write")
                outcomes.append((None, error))
            connection.execute("RELEASE batched_write")
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        return [(None, error)] * len(batch)
    return outcomes


def _is_read_only(query: str) -> bool:
    head = query.lstrip()[:7].upper()
    return head.startswith("SELECT") or head.startswith("PRAGMA ") and "=" not in query
