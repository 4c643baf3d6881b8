"""Backup and restore of the database.

SQLite: ``VACUUM INTO`` writes the live database into a new file from ONE read transaction —
a WAL snapshot, so the server's writers go on and cannot make the copy start over (SQLite's
page-by-page online backup restarts whenever another connection writes between its steps, and
under a busy server's ~200 writes/s it never finished). The new file is created empty with mode
0600 before SQLite writes a byte into it (personal data: readable by the owner only), checked
with ``PRAGMA integrity_check`` and only then moved into place; on any failure, Ctrl-C included,
the partial file is removed.

PostgreSQL: ``backup`` counts the rows of every table inside one REPEATABLE READ transaction,
exports that transaction's snapshot and has ``pg_dump --snapshot`` dump exactly it (0600 from
the first byte, like the SQLite copy); it then reads the dump back (``pg_restore --data-only``
to a pipe) and compares the rows per table with the counts: a dump that lacks anything is
refused and removed. ``restore`` runs ``pg_restore --clean --single-transaction`` and compares
the restored database's rows per table with the dump's.

The secret key (``KHAIBAO_SECRET_KEY`` or the ``.secret`` file beside the database)
is NOT in the backup: without it ID hashes, encrypted fields and tokens cannot be used, so keep
it separately and safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from khaibao.core import db_in_use
from khaibao.core.settings import Settings

Progress = Callable[[int, int], None]  # (bytes written, bytes expected)
PROGRESS_EVERY_OPS = 20_000  # SQLite virtual-machine steps between two progress reports
PROGRESS_FROM_BYTES = 64 << 20  # the command shows progress for databases from this size
PG_CHECKED = "rows per table checked"


class BackupError(RuntimeError):
    """The backup or restore could not be made; ``str()`` is one line for the operator."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: dict[str, int]
    checked: str = "integrity ok"

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        return f"{self.path}: {len(self.tables)} tables, {rows} rows, {self.checked}"


def _connect(path: Path, *, must_exist: bool = True) -> sqlite3.Connection:
    if must_exist and not path.exists():
        raise BackupError(f"no SQLite database at {path}")
    connection = sqlite3.connect(str(path), timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def integrity(path: Path) -> str:
    """``ok``, or SQLite's first complaint about the file."""
    connection = _connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        return str(error)
    finally:
        connection.close()


def table_counts(path: Path) -> dict[str, int]:
    """Rows per table (a quick comparison of a backup with its source)."""
    connection = _connect(path)
    try:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
                for name in names}
    finally:
        connection.close()


@contextlib.contextmanager
def _owner_only() -> Iterator[None]:
    """Files created inside (the copy, SQLite's journal beside it) are 0600 from creation."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy(source: Path, target: Path, progress: Progress | None = None) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        with _owner_only():
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            _vacuum_into(source, tmp, progress)
            result = integrity(tmp)
            if result != "ok":
                raise BackupError(f"the copy failed its integrity check: {result}")
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _vacuum_into(source: Path, tmp: Path, progress: Progress | None) -> None:
    """One consistent snapshot of ``source`` written into the empty file ``tmp``."""
    total = source.stat().st_size
    failure: list[BaseException] = []

    def report() -> int:
        try:
            progress(min(tmp.stat().st_size, total), total)  # type: ignore[misc]
        except BaseException as error:  # Ctrl-C or the caller's error: stop the copy
            failure.append(error)
            return 1
        return 0

    src = _connect(source)
    try:
        if progress is not None:
            src.set_progress_handler(report, PROGRESS_EVERY_OPS)
        src.execute("VACUUM INTO ?", (str(tmp),))
    except sqlite3.Error as error:
        if failure:
            raise failure[0] from None
        raise BackupError(f"copy failed: {error}") from error
    finally:
        src.close()
    if failure:
        raise failure[0]
    dst = _connect(tmp)
    try:
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dst.close()
    if progress is not None:
        size = tmp.stat().st_size
        progress(size, size)


def backup(settings: Settings, target: Path, progress: Progress | None = None
           ) -> BackupReport:
    """Copy the live database to ``target`` (a file) — safe while the server is serving.
    ``progress(done, total)`` is called now and then with bytes written and expected."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not settings.is_sqlite:
        return BackupReport(target, asyncio.run(_pg_backup(settings.database_url, target)),
                            PG_CHECKED)
    _copy(settings.sqlite_path, target, progress)
    return BackupReport(target, table_counts(target))


def restore(settings: Settings, source: Path) -> BackupReport:
    """Replace the database with the backup ``source``. Refuses while a server uses the
    database (see core/db_in_use.py): the server would keep writing to the old file."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    try:
        with db_in_use.exclusive_for_restore(settings):
            return _restore(settings, source)
    except db_in_use.LockFailed as error:
        raise BackupError(str(error)) from None


def _restore(settings: Settings, source: Path) -> BackupReport:
    if not settings.is_sqlite:
        return BackupReport(source, asyncio.run(_pg_restore(settings.database_url, source)),
                            PG_CHECKED)
    result = integrity(source)
    if result != "ok":
        raise BackupError(f"the backup {source} is damaged: {result}")
    live = settings.sqlite_path
    live.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed onto the restored file
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    expected = table_counts(source)
    _copy(source, live)
    restored = table_counts(live)
    _compare(expected, restored, "the restored database has")
    return BackupReport(live, restored)


def _pg(tool: str, *args: str) -> None:
    _require(tool)
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {_last_line(done.stderr)}")


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed; see SECURITY.md for the PostgreSQL recipe")


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no message"


_TABLES = ("SELECT schemaname, tablename FROM pg_tables "
           "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2")


def _table_name(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


async def _pg_counts(connection) -> dict[str, int]:
    counts = {}
    for row in await connection.fetch(_TABLES):
        quoted = f'"{row["schemaname"]}"."{row["tablename"]}"'
        counts[_table_name(row["schemaname"], row["tablename"])] = await connection.fetchval(
            f"SELECT count(*) FROM {quoted}")  # noqa: S608 (names from pg_tables)
    return counts


async def _connect_pg(url: str):
    import asyncpg

    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as error:
        raise BackupError(f"cannot connect to the database: {error}") from error


async def _pg_backup(url: str, target: Path) -> dict[str, int]:
    """pg_dump of one snapshot, whose rows per table were counted and are found in the dump."""
    _require("pg_dump")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    connection = await _connect_pg(url)
    try:
        transaction = connection.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
        counts = await _pg_counts(connection)
        try:
            with _owner_only():
                tmp.unlink(missing_ok=True)
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                dump = await asyncio.create_subprocess_exec(
                    "pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                    f"--file={tmp}", f"--dbname={url}", stderr=subprocess.PIPE)
                _out, errors = await dump.communicate()
            if dump.returncode != 0:
                raise BackupError(f"pg_dump failed: {_last_line(errors.decode())}")
            await transaction.rollback()
            _compare(counts, await _dump_counts(tmp), "the dump holds")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    finally:
        await connection.close()
    return counts


_COPY = re.compile(r'^COPY (?:"([^"]+)"|([^ ."]+))\.(?:"([^"]+)"|([^ ."]+)) ')


async def _dump_counts(dump: Path) -> dict[str, int]:
    """Rows per table in a custom-format dump, read from its data as pg_restore writes it."""
    _require("pg_restore")
    reader = await asyncio.create_subprocess_exec(
        "pg_restore", "--data-only", "--file=-", str(dump),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, limit=1 << 24)
    assert reader.stdout is not None
    counts: dict[str, int] = {}
    table: str | None = None
    async for raw in reader.stdout:
        line = raw.rstrip(b"\n")
        if table is not None:
            if line == b"\\.":
                table = None
            else:
                counts[table] += 1
        elif line.startswith(b"COPY "):
            found = _COPY.match(line.decode("utf-8", "replace"))
            if found:
                schema = found.group(1) or found.group(2)
                table = _table_name(schema, found.group(3) or found.group(4))
                counts[table] = 0
    errors = await reader.stderr.read() if reader.stderr else b""
    if await reader.wait() != 0:
        raise BackupError(f"the dump cannot be read: {_last_line(errors.decode())}")
    return counts


def _compare(expected: dict[str, int], found: dict[str, int], found_in: str) -> None:
    """Every table of ``expected`` has its row count in ``found``."""
    for table, rows in expected.items():
        if found.get(table) != rows:
            raise BackupError(f"{found_in} {found.get(table, 0)} rows of {table}, "
                              f"expected {rows}")


async def _pg_restore(url: str, source: Path) -> dict[str, int]:
    """pg_restore in one transaction, then the restored rows per table = the dump's."""
    expected = await _dump_counts(source)
    _require("pg_restore")
    restore = await asyncio.create_subprocess_exec(
        "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
        f"--dbname={url}", str(source), stderr=subprocess.PIPE)
    _out, errors = await restore.communicate()
    if restore.returncode != 0:
        raise BackupError(f"pg_restore failed: {_last_line(errors.decode())}")
    connection = await _connect_pg(url)
    try:
        restored = await _pg_counts(connection)
    finally:
        await connection.close()
    _compare(expected, restored, "the restored database has")
    return {table: restored[table] for table in expected}
