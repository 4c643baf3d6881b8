"""Backup and restore of the database.

SQLite: SQLite's online backup API copies the live database page by page into a new file while
the server keeps serving (readers and writers in WAL mode are not blocked; a page changed during
the copy makes SQLite restart that step, so the copy is always one consistent snapshot). The copy
is checked with ``PRAGMA integrity_check`` before it is moved into place.

PostgreSQL: use the database's own tools (documented in SECURITY.md)::

    pg_dump --format=custom --no-owner --file=khaibao.dump "$KHAIBAO_DATABASE_URL"
    pg_restore --clean --if-exists --no-owner --dbname="$KHAIBAO_DATABASE_URL" khaibao.dump

``backup``/``restore`` run ``pg_dump``/``pg_restore`` for a PostgreSQL URL when they are
installed. The secret key (``KHAIBAO_SECRET_KEY`` or the ``.secret`` file beside the database)
is NOT in the backup: without it ID hashes, encrypted fields and tokens cannot be used, so keep
it separately and safely.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from khaibao.core.settings import Settings

PAGES_PER_STEP = 256


class BackupError(RuntimeError):
    """The backup or restore could not be made; ``str()`` is one line for the operator."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: dict[str, int]

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        return f"{self.path}: {len(self.tables)} tables, {rows} rows, integrity ok"


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


def _copy(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    src = _connect(source)
    dst = _connect(tmp, must_exist=False)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    except sqlite3.Error as error:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"copy failed: {error}") from error
    finally:
        dst.close()
        src.close()
    result = integrity(tmp)
    if result != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {result}")
    os.chmod(tmp, 0o600)  # personal data: readable by the owner only
    os.replace(tmp, target)


def backup(settings: Settings, target: Path) -> BackupReport:
    """Copy the live database to ``target`` (a file) — safe while the server is serving."""
    target = Path(target)
    if not settings.is_sqlite:
        _pg("pg_dump", "--format=custom", "--no-owner", f"--file={target}",
            settings.database_url)
        return BackupReport(target, {})
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(settings.sqlite_path, target)
    return BackupReport(target, table_counts(target))


def restore(settings: Settings, source: Path) -> BackupReport:
    """Replace the database with the backup ``source``. Stop the server first: a running
    process keeps its open connection to the old file."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    if not settings.is_sqlite:
        _pg("pg_restore", "--clean", "--if-exists", "--no-owner",
            f"--dbname={settings.database_url}", str(source))
        return BackupReport(source, {})
    result = integrity(source)
    if result != "ok":
        raise BackupError(f"the backup {source} is damaged: {result}")
    live = settings.sqlite_path
    live.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):  # a stale WAL would be replayed onto the restored file
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    _copy(source, live)
    return BackupReport(live, table_counts(live))


def _pg(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed; see SECURITY.md for the PostgreSQL recipe")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip().splitlines()[-1:]}")
