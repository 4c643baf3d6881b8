"""Database engine, connection lifecycle and transactions — with sqlite_engine.py, the only
engine-specific code.

SQLite: Piccolo's stock engine opens a new connection (and thread) for every query, which
costs ~1 ms each; sqlite_engine.py keeps a writer, a reader and a fast reader open for the
process and commits queued writes together. PostgreSQL: an asyncpg pool opened at start-up
and closed at shutdown.

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

import contextlib
import hashlib
import sqlite3
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from khaibao.core.db_errors import DatabaseUnavailable, NotMigrated
from khaibao.core.settings import Settings
from khaibao.core.sqlite_engine import PersistentSQLiteEngine

MIGRATIONS_APP = "khaibao"


# --- the process's engine -------------------------------------------------------------------

_engine: Engine | None = None


def create_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        return PersistentSQLiteEngine(str(settings.sqlite_path))
    # Piccolo asks the server's version here and warns when it cannot connect; connecting
    # (``connect``) then says so in one line of ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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


async def lock(name: str) -> None:
    """Inside ``write_transaction()``: wait until no other transaction holds the lock
    ``name``, and hold it until this one ends — so "check that no row exists, then insert"
    runs one at a time where no row can be locked. SQLite's ``BEGIN IMMEDIATE`` already lets
    one writer in at a time; PostgreSQL takes an advisory transaction lock."""
    if is_sqlite():
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    await execute("SELECT pg_advisory_xact_lock({})", key)


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
