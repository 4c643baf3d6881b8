"""The lock that says "a server is using this database", so a restore can refuse.

Every server process holds a SHARED lock from start-up to shutdown; ``khaibao restore`` takes
the EXCLUSIVE lock without waiting and refuses if it cannot (a restore under a running server
is lost: the server keeps writing to the replaced, unlinked SQLite file, or into tables
pg_restore is rewriting). A server starting during a restore waits for it to end.

SQLite: ``flock`` on ``<database>.lock`` beside the database file (the kernel drops it when the
process dies, ``kill -9`` included). PostgreSQL: a session advisory lock in that database,
held on one connection of its own per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from khaibao.core.settings import Settings

log = logging.getLogger("khaibao.db_in_use")
ADVISORY_KEY = 0x6B68_6169_6261_6F  # "khaibao": one key for "the server uses this database"
WAIT_LOG_AFTER = 2.0


class LockFailed(RuntimeError):
    """The restore's lock cannot be taken; ``str()`` is one line for the operator."""


class InUse(LockFailed):
    """A server is using the database."""


def lock_path(settings: Settings) -> Path:
    database = settings.sqlite_path
    return database.with_name(database.name + ".lock")


def _open_lock_file(settings: Settings) -> int:
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.asynccontextmanager
async def held_by_server(settings: Settings) -> AsyncIterator[None]:
    """The server's shared lock, for as long as the block runs."""
    if not settings.is_sqlite:
        async with _pg_shared(settings):
            yield
        return
    descriptor = _open_lock_file(settings)
    try:
        waited = 0.0
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited == WAIT_LOG_AFTER:
                    log.warning("waiting for the restore of %s to finish", settings.sqlite_path)
                await asyncio.sleep(0.1)
                waited = round(waited + 0.1, 1)
        yield
    finally:
        os.close(descriptor)  # releases the lock


@contextlib.asynccontextmanager
async def _pg_shared(settings: Settings) -> AsyncIterator[None]:
    import asyncpg

    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock_shared($1)", ADVISORY_KEY)
        yield
    finally:
        await connection.close()  # ends the session and with it the lock


@contextlib.contextmanager
def exclusive_for_restore(settings: Settings) -> Iterator[None]:
    """No server uses the database, and none starts, while the block runs; otherwise
    :class:`InUse` (:class:`LockFailed` when the database cannot be reached)."""
    if not settings.is_sqlite:
        with _pg_exclusive(settings):
            yield
        return
    descriptor = _open_lock_file(settings)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InUse(f"a running server uses {settings.sqlite_path}; stop it first") from None
        yield
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _pg_exclusive(settings: Settings) -> Iterator[None]:
    import asyncpg

    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(asyncpg.connect(settings.database_url))
    except (OSError, asyncpg.PostgresError) as error:
        loop.close()
        raise LockFailed(f"cannot connect to the database: {error}") from error
    try:
        if not loop.run_until_complete(connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", ADVISORY_KEY)):
            raise InUse("a running server uses this PostgreSQL database; stop it first")
        yield
    finally:
        loop.run_until_complete(connection.close())
        loop.close()
