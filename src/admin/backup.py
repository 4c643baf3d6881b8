"""Backup and restore of the database.

SQLite: ``VACUUM INTO`` writes the live database into a new file from ONE read transaction —
a WAL snapshot, so the server's writers go on and cannot make the copy start over (SQLite's
page-by-page online backup restarts whenever another connection writes between its steps, and
under a busy server's ~200 writes/s it never finished). The new file is created empty with mode
0600 before SQLite writes a byte into it (personal data: readable by the owner only), checked
with ``PRAGMA integrity_check`` and only then moved into place; on any failure, Ctrl-C included,
the partial file is removed.

PostgreSQL: use the database's own tools (documented in SECURITY.md)::

    pg_dump --format=custom --no-owner --file=khaibao.dump "$KHAIBAO_DATABASE_URL"
    pg_restore --clean --if-exists --no-owner --dbname="$KHAIBAO_DATABASE_URL" khaibao.dump

``backup``/``restore`` run ``pg_dump``/``pg_restore`` for a PostgreSQL URL when they are
installed. The secret key (``KHAIBAO_SECRET_KEY`` or the ``.secret`` file beside the database)
is NOT in the backup: without it ID hashes, encrypted fields and tokens cannot be used, so keep
it separately and safely.
"""

from __future__ import annotations

import contextlib
import os
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
    if not settings.is_sqlite:
        _pg("pg_dump", "--format=custom", "--no-owner", f"--file={target}",
            settings.database_url)
        return BackupReport(target, {})
    target.parent.mkdir(parents=True, exist_ok=True)
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
    except db_in_use.InUse as error:
        raise BackupError(str(error)) from None


def _restore(settings: Settings, source: Path) -> BackupReport:
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
