"""SQLite backup under busy writes: one consistent snapshot that writers cannot starve, written
owner-only from the first byte, the partial file removed on any failure, progress reported.
(The server-level drill, restore and PostgreSQL are in tests/e2e/test_backup_drill_e2e.py.)"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from khaibao.admin import backup

WRITES_PER_SECOND = 200


def large_database(path: Path, rows: int) -> None:
    connection = sqlite3.connect(str(path))
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    connection.execute("CREATE INDEX note_body ON note (body)")
    connection.executemany("INSERT INTO note (body) VALUES (?)",
                           ((f"{i:08d}" + "x" * 300,) for i in range(rows)))
    connection.commit()
    connection.close()


class BusyWriter:
    """~200 committed writes a second from another connection, as a busy server makes."""

    def __init__(self, path: Path) -> None:
        self.path, self.written = path, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = sqlite3.connect(str(self.path), timeout=30)
        try:
            while not self._stop.is_set():
                connection.execute("INSERT INTO note (body) VALUES (?)", (f"busy {self.written}",))
                connection.commit()
                self.written += 1
                time.sleep(1 / WRITES_PER_SECOND)
        finally:
            connection.close()

    def __enter__(self) -> BusyWriter:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


class ModeWatcher:
    """Every file that appears in ``directory`` while it runs, with the widest mode it had."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.modes = directory, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for entry in list(self.directory.iterdir()):
                try:
                    mode = stat.S_IMODE(entry.stat().st_mode)
                except FileNotFoundError:
                    continue
                self.modes[entry.name] = self.modes.get(entry.name, 0) | mode
            time.sleep(0.001)

    def __enter__(self) -> ModeWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def live(tmp_path, settings):
    path = tmp_path / "live.sqlite3"
    large_database(path, rows=60_000)  # ~40 MB with its index
    return dataclasses.replace(settings, database_url=f"sqlite:///{path}")


@pytest.mark.slow
def test_backup_finishes_under_busy_writes_owner_only_from_the_first_byte(live, tmp_path):
    target_dir = tmp_path / "copies"
    target_dir.mkdir()
    target = target_dir / "khaibao-backup.sqlite3"
    progress: list[tuple[int, int]] = []
    result: dict = {}

    def run() -> None:
        try:
            result["report"] = backup.backup(live, target,
                                             progress=lambda done, total: progress.append(
                                                 (done, total)))
        except BaseException as error:  # reported below
            result["error"] = error

    old_umask = os.umask(0o022)  # what a shell usually has: new files 0644
    try:
        with BusyWriter(live.sqlite_path) as writer, ModeWatcher(target_dir) as watcher:
            time.sleep(0.3)
            started = time.perf_counter()
            copier = threading.Thread(target=run, daemon=True)
            copier.start()
            copier.join(timeout=60)
            seconds = time.perf_counter() - started
            assert not copier.is_alive(), f"backup still copying after 60 s ({writer.written} "\
                "writes meanwhile)"
            time.sleep(0.2)
    finally:
        os.umask(old_umask)
    assert "error" not in result, result.get("error")
    assert writer.written > 50  # the writes went on during the copy
    print(f"backup of {live.sqlite_path.stat().st_size >> 20} MB under {WRITES_PER_SECOND} "
          f"writes/s: {seconds:.2f} s")
    assert {name: mode for name, mode in watcher.modes.items() if mode & 0o077} == {}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert backup.integrity(target) == "ok"
    assert result["report"].tables["note"] >= 60_000
    assert progress and progress[-1][0] == progress[-1][1]  # ends at 100 %
    assert sorted(p.name for p in target_dir.iterdir()) == [target.name]


def test_a_failed_backup_leaves_no_partial_file(live, tmp_path):
    target_dir = tmp_path / "copies"
    target_dir.mkdir()

    def interrupted(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the operator's Ctrl-C in the middle of the copy

    with pytest.raises(KeyboardInterrupt):
        backup.backup(live, target_dir / "copy.sqlite3", progress=interrupted)
    assert list(target_dir.iterdir()) == []
