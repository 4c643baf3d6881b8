"""What the database layer raises, whichever engine runs underneath — and the one place
where a driver's error (sqlite3, asyncpg, redis) is recognised as a full disk or an outage.

An outage is an *incident*: it is logged once when it starts, not once per request that
meets it, and while a write was refused for lack of space in the last
``STORAGE_FULL_SECONDS`` (and none succeeded since) readiness (``/healthz``) answers 503.
"""

from __future__ import annotations

import logging
import sqlite3
import time

log = logging.getLogger("khaibao.errors")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used right now."""


class NotMigrated(RuntimeError):
    """The database schema is behind the code."""


class StorageFull(DatabaseUnavailable):
    """The disk (or SQLite's size limit) is full: this write failed and was rolled back;
    everything saved before is intact."""


# SQLite result codes (primary code: the low byte) that mean the file cannot be used now.
_SQLITE_UNAVAILABLE = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY,
                       sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB}


def _asyncpg_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(disk full, connection lost) exception classes of asyncpg."""
    try:
        import asyncpg.exceptions as pg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return (), ()
    return (pg.DiskFullError,), (
        pg.PostgresConnectionError,  # class 08: connection failure, does not exist…
        pg.CannotConnectNowError, pg.AdminShutdownError, pg.CrashShutdownError,
        pg.TooManyConnectionsError,
    )


def _redis_classes() -> tuple[type, ...]:
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is a dependency
        return ()
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


_PG_FULL, _PG_LOST = _asyncpg_classes()
_REDIS_LOST = _redis_classes()


def recognise(error: BaseException) -> DatabaseUnavailable | None:
    """The full disk or outage behind ``error`` (following its causes), or None when it is
    some other fault. A full disk wins over the errors it caused on the way out (a failed
    rollback, a closed connection). Redis (the rate-limit store) counts as a database."""
    seen: set[int] = set()
    found: DatabaseUnavailable | None = None
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        outage = _recognise_one(current)
        if isinstance(outage, StorageFull):
            return outage
        found = found or outage
        current = current.__cause__ or current.__context__
    return found


def _recognise_one(error: BaseException) -> DatabaseUnavailable | None:
    if isinstance(error, DatabaseUnavailable):
        return error
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
            return StorageFull(f"SQLite: {error}")
        if code is not None and code & 0xFF in _SQLITE_UNAVAILABLE:
            return DatabaseUnavailable(f"SQLite: {error}")
        return None
    if _PG_FULL and isinstance(error, _PG_FULL):
        return StorageFull(f"PostgreSQL: {error}")
    if _PG_LOST and isinstance(error, _PG_LOST):
        return DatabaseUnavailable(f"PostgreSQL: {type(error).__name__}: {error}")
    if _PG_LOST and type(error).__name__ == "InterfaceError" and "closed" in str(error):
        return DatabaseUnavailable(f"PostgreSQL: {error}")  # "connection is closed"
    if _REDIS_LOST and isinstance(error, _REDIS_LOST):
        return DatabaseUnavailable(f"Redis: {error}")
    if isinstance(error, ConnectionError):  # refused or reset by the database server
        return DatabaseUnavailable(f"{type(error).__name__}: {error}")
    return None


# --- incidents ---------------------------------------------------------------------------------

INCIDENT_GAP_SECONDS = 60.0  # failures of one kind closer than this are one incident
STORAGE_FULL_SECONDS = 30.0  # readiness stays 503 this long after a refused write

_last_failure: dict[str, float] = {}


def report(outage: DatabaseUnavailable) -> None:
    """Log the outage if it starts an incident (one line), quietly count it otherwise."""
    kind = "storage" if isinstance(outage, StorageFull) else "unavailable"
    now = time.monotonic()
    last = _last_failure.get(kind)
    _last_failure[kind] = now
    if last is None or now - last > INCIDENT_GAP_SECONDS:
        if kind == "storage":
            log.critical("storage full, writes are refused (logged once per incident): %s",
                         outage)
        else:
            log.error("database unavailable (logged once per incident): %s", outage)
    else:
        log.debug("still %s: %s", kind, outage)


def write_succeeded() -> None:
    """A write was committed: whatever storage incident there was is over."""
    if _last_failure.pop("storage", None) is not None:
        log.warning("storage available again: writes succeed")


def writes_refused_for_space() -> bool:
    """A write was refused for lack of space recently, and none has succeeded since."""
    last = _last_failure.get("storage")
    return last is not None and time.monotonic() - last <= STORAGE_FULL_SECONDS
