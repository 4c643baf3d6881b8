"""Database engine, connection lifecycle and transactions — the only engine-specific code.

SQLite: Piccolo's stock engine opens a new connection (and thread) for every query, which
costs ~1 ms each. Here each process keeps one writer connection (behind an asyncio lock, so
a transaction owns it until it ends) and one reader connection (WAL lets it read while the
writer writes). Writes outside a transaction run in autocommit mode and are committed when
the statement finishes; ``write_transaction()`` opens ``BEGIN IMMEDIATE`` so a
read-then-write never fails half-way on a lock upgrade. Several processes share the file
through SQLite's own locking, with a busy timeout.

PostgreSQL: an asyncpg pool opened at start-up and closed at shutdown.

Hot paths (the officer's scan, the session guard, audit) use :func:`fetch` / :func:`execute`:
hand-written SQL with ``{}`` placeholders, compiled once per engine, run without building a
Piccolo query (building one costs more than running it). On SQLite :func:`fetch` reads on a
third, synchronous connection in the event loop's own thread: an indexed read in WAL mode
never waits for a lock and takes tens of microseconds, less than the hop to aiosqlite's
thread. Only short indexed reads belong there.

Services use ``transaction()`` / ``write_transaction()`` and plain Piccolo queries; they never
see which engine runs underneath.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from khaibao.settings import Settings

BUSY_TIMEOUT_MS = 10_000
MIGRATIONS_APP = "khaibao"


# Reads of a big file: map it into memory (no read() per page; the OS page cache is shared by
# every connection and process) and keep 32 MB of hot pages per connection.
_READ_PRAGMAS = ("PRAGMA mmap_size = 17179869184", "PRAGMA cache_size = -32768")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used right now."""


class NotMigrated(RuntimeError):
    """The database schema is behind the code."""


class StorageFull(DatabaseUnavailable):
    """The disk (or SQLite's size limit) is full: this write failed and was rolled back;
    everything saved before is intact."""


def _full(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


class _PersistentTransaction(SQLiteTransaction):
    """A transaction on the process's writer connection, holding its lock until the end."""

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: PersistentSQLiteEngine = self.engine  # type: ignore[assignment]
        await engine.writer_lock.acquire()
        try:
            self.connection = await engine.writer()
            await self.begin()
        except BaseException:
            engine.writer_lock.release()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        engine: PersistentSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if exception is not None or self._rolled_back:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed:
                try:
                    await self.commit()
                except sqlite3.Error as error:
                    await self.rollback()
                    if _full(error):
                        raise StorageFull(str(error)) from error
                    raise
                except BaseException:
                    await self.rollback()
                    raise
        finally:
            engine.current_transaction.reset(self.context)
            engine.writer_lock.release()
        return exception is None


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

    def fast_reader(self) -> sqlite3.Connection:
        """A synchronous read connection for :func:`fetch` (used in the loop's thread)."""
        if self._fast is None:
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

    async def _open(self) -> aiosqlite.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = await aiosqlite.connect(**self.connection_kwargs)
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            for pragma in _READ_PRAGMAS:
                await connection.execute(pragma)
        except sqlite3.Error as error:
            raise DatabaseUnavailable(f"SQLite file {self.path}: {error}") from error
        return connection

    async def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            async with self._open_lock:
                if self._writer is None:
                    self._writer = await self._open()
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
            except sqlite3.Error:
                pass  # statistics are an optimisation; closing must not fail for them
        for connection in (self._writer, self._reader):
            if connection is not None:
                await connection.close()
        if self._fast is not None:
            self._fast.close()
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

    async def _flush(self) -> None:
        async with self.writer_lock:
            batch, self._queued = self._queued, []
            try:
                connection = await self.writer()
                outcomes = await connection._execute(
                    _write_batch, connection._conn, [(t, p) for t, p, _ in batch])
            except BaseException as error:  # the writer itself failed: every caller hears it
                outcomes = [(None, error)] * len(batch)
        for (_text, _params, future), (rows, error) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if error is None:
                future.set_result(list(rows))
            elif isinstance(error, sqlite3.Error) and _full(error):
                future.set_exception(StorageFull(str(error)))
            else:
                future.set_exception(error)

    async def _run_in_new_connection(
        self, query: str, args=None, query_type: str = "generic", table=None
    ):
        """Outside a transaction: reads go to the reader, writes to the locked writer."""
        if _is_read_only(query):
            return await self._execute(await self.reader(), query, args)
        async with self.writer_lock:
            return await self._execute(await self.writer(), query, args)

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


# --- the process's engine -------------------------------------------------------------------

_engine: Engine | None = None


def create_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        return PersistentSQLiteEngine(str(settings.sqlite_path))
    return PostgresEngine(config={"dsn": settings.database_url})


def all_tables() -> list[type[Table]]:
    from khaibao.piccolo_app import APP_CONFIG

    return [*APP_CONFIG.table_classes, Migration]


_engine_url: str | None = None


def configure(settings: Settings) -> Engine:
    """Create the engine for these settings and bind every table to it (the same database
    configured again keeps its engine, and with it the open connections)."""
    global _engine, _engine_url
    if _engine is not None and _engine_url == settings.database_url:
        return _engine
    _engine, _engine_url = create_engine(settings), settings.database_url
    for table in all_tables():
        table._meta.db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        return configure(Settings.from_env())
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def connect() -> None:
    """Open the process's connections (called at app start-up)."""
    current = engine()
    if isinstance(current, PostgresEngine):
        if current.pool is not None:
            return
        try:
            await current.start_connection_pool(min_size=2, max_size=20, command_timeout=30)
        except (OSError, Exception) as error:  # asyncpg raises many kinds
            raise DatabaseUnavailable(f"PostgreSQL: {error}") from error
    else:
        assert isinstance(current, PersistentSQLiteEngine)
        await current.writer()
        await current.reader()


async def disconnect() -> None:
    current = engine()
    if isinstance(current, PostgresEngine):
        if current.pool is not None:
            await current.close_connection_pool()
    elif isinstance(current, PersistentSQLiteEngine):
        await current.close()


def transaction():
    """A transaction for several writes that must land together."""
    return engine().transaction()


def write_transaction():
    """A transaction that reads and then writes: on SQLite it takes the write lock at once
    (``BEGIN IMMEDIATE``), so a concurrent writer waits instead of failing at upgrade."""
    current = engine()
    if isinstance(current, SQLiteEngine):
        return current.transaction(transaction_type=TransactionType.immediate)
    return current.transaction()


def aware(value: Any) -> Any:
    """A stored moment as an aware UTC datetime: SQLite hands back naive UTC datetimes (or
    ISO text from raw queries), PostgreSQL aware ones. None and other values pass through."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


T = TypeVar("T")


def is_unique_violation(exc: BaseException) -> bool:
    """A unique constraint refused a write (SQLite or PostgreSQL driver error)."""
    return getattr(exc, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc)


async def retry_on_unique(operation: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run a whole transaction again when a concurrent writer won a unique race (or a random
    QR reference collided): the next attempt sees the winner's committed rows."""
    for attempt in range(attempts):
        try:
            return await operation()
        except Exception as exc:
            if attempt == attempts - 1 or not is_unique_violation(exc):
                raise
    raise AssertionError("unreachable")



def for_update(query):
    """Lock the selected rows until the transaction ends. Use inside ``write_transaction()``:
    PostgreSQL needs ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already holds the lock."""
    return query if is_sqlite() else query.lock_rows()


async def ping() -> None:
    """Raise ``DatabaseUnavailable`` unless a trivial query answers."""
    try:
        await fetch("SELECT 1 AS ok")
    except DatabaseUnavailable:
        raise
    except Exception as error:
        raise DatabaseUnavailable(str(error)) from error


# --- hot-path SQL ----------------------------------------------------------------------------

_compiled: dict[tuple[bool, str], str] = {}


def _compile(sql: str, sqlite: bool) -> str:
    """``{}`` placeholders → ``?`` (SQLite) or ``$1, $2…`` (PostgreSQL), cached."""
    key = (sqlite, sql)
    text = _compiled.get(key)
    if text is None:
        if sqlite:
            text = sql.replace("{}", "?")
        else:
            parts = sql.split("{}")
            text = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
        _compiled[key] = text
    return text


async def _in_transaction(current: PersistentSQLiteEngine, text: str, params: list
                          ) -> list[dict[str, Any]] | None:
    """Run on the open transaction's connection, if there is one (so it sees its writes).
    ``params`` go to sqlite3 as they are: Piccolo's adapters turn datetimes into its text."""
    transaction = current.current_transaction.get()
    if transaction is None:
        return None
    return await current._execute(transaction.connection, text, params)


def marks(count: int) -> str:
    """``{}, {}, …``: the placeholders of an ``IN (…)`` list of ``count`` values."""
    return ", ".join(["{}"] * count)


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows (as dicts) of a hand-written read; ``{}`` placeholders, both engines. Inside a
    transaction it runs on the transaction's connection (so it sees its writes)."""
    current = engine()
    if isinstance(current, PersistentSQLiteEngine):
        text, params = _compile(sql, True), list(args)
        if (in_transaction := await _in_transaction(current, text, params)) is not None:
            return in_transaction
        try:
            cursor = current.fast_reader().execute(text, params)
            return [dict(row) for row in cursor.fetchall()]
        except sqlite3.OperationalError as error:
            raise DatabaseUnavailable(str(error)) from error
    return await _pg_run(current, _compile(sql, False), args)


async def execute(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A hand-written write (``RETURNING`` rows come back as dicts), both engines."""
    current = engine()
    if isinstance(current, PersistentSQLiteEngine):
        text, params = _compile(sql, True), list(args)
        if (in_transaction := await _in_transaction(current, text, params)) is not None:
            return in_transaction
        return await current.write_alone(text, params)
    return await _pg_run(current, _compile(sql, False), args)


async def _pg_run(current: Engine, text: str, args: tuple) -> list[dict[str, Any]]:
    assert isinstance(current, PostgresEngine)
    transaction = current.current_transaction.get()
    if transaction is not None:
        rows = await transaction.connection.fetch(text, *args)
    elif current.pool is not None:
        async with current.pool.acquire() as connection:
            rows = await connection.fetch(text, *args)
    else:
        connection = await current.get_new_connection()
        try:
            rows = await connection.fetch(text, *args)
        finally:
            await connection.close()
    return [dict(row) for row in rows]


# --- migrations -------------------------------------------------------------------------------


def _migration_ids() -> list[str]:
    from khaibao.piccolo_app import APP_CONFIG

    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
    return sorted(modules)


async def pending_migrations() -> list[str]:
    """Migration ids present in the code but not yet applied to the database."""
    try:
        exists = await Migration.table_exists().run()
        applied = set(await Migration.get_migrations_which_ran(app_name=MIGRATIONS_APP)) if (
            exists
        ) else set()
    except DatabaseUnavailable:
        raise
    except Exception as error:
        raise DatabaseUnavailable(str(error)) from error
    return [mid for mid in _migration_ids() if mid not in applied]


async def migrate() -> list[str]:
    """Apply every pending migration; return the ids applied."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    pending = await pending_migrations()
    if pending:
        with contextlib.redirect_stdout(_Quiet()):
            result = await run_forwards(app_name=MIGRATIONS_APP)
        if not result.success:
            raise NotMigrated(result.message or "migration failed")
    return pending


async def require_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise NotMigrated(
            f"The database is not up to date ({len(pending)} migration(s) pending): "
            "run `khaibao migrate` first."
        )


class _Quiet:
    """Swallows Piccolo's emoji progress output; ``khaibao migrate`` prints its own."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass


@contextlib.asynccontextmanager
async def lifespan_connection() -> AsyncIterator[None]:
    await connect()
    try:
        yield
    finally:
        await disconnect()
