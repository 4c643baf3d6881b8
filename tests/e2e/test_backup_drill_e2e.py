"""Backup drill: ``khaibao backup`` while the server takes writes, then ``khaibao restore``
into a fresh place; the copy is intact and holds exactly what the backup counted."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time

import pytest

from tests.e2e.conftest import KHAIBAO, start_server, stop_server
from tests.e2e.load_helpers import WriteLoad, declaration, signed_in_client
from tests.e2e.test_faults_e2e import ENGINES, PG_URL, _pg


def _rows(path, sql: str):
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _refs(path) -> set[str]:
    # one row per person declared, its client_ref being "<form client_ref>:<index>"
    return {row[0].rsplit(":", 1)[0]
            for row in _rows(path, "SELECT client_ref FROM health_declaration")}


def _summary(output: str) -> tuple[int, int]:
    """(tables, rows) from the command's "N tables, M rows, ... ok" line."""
    found = re.search(r"(\d+) tables, (\d+) rows", output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


@pytest.fixture
def server(tmp_path):
    live = start_server(tmp_path)
    yield live
    stop_server(live)


def test_backup_under_write_load_then_restore(server, tmp_path):
    client = signed_in_client(server)
    load = WriteLoad(client).start()
    try:
        deadline = time.monotonic() + 20
        while len(load.acked) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        acked_before = list(load.acked)
        assert len(acked_before) >= 10, load.failed[:5]
        backup_file = tmp_path / "copies" / "khaibao-backup.sqlite3"
        done = server.khaibao("backup", str(backup_file))
        acked_during = len(load.acked)
        time.sleep(0.5)  # the load keeps writing after the copy was made
    finally:
        load.stop()
    assert "integrity ok" in done.stdout
    assert "secret key" in done.stderr  # the operator is told the key is not in the copy
    assert backup_file.stat().st_mode & 0o077 == 0  # personal data: owner only
    assert _rows(backup_file, "PRAGMA integrity_check") == [("ok",)]
    copied = _refs(backup_file)
    # every write acknowledged before the backup started is in it
    assert set(acked_before) <= copied
    assert len(load.acked) > acked_during or len(load.acked) > len(copied)

    # restore into a new database file with the CLI and check it is the same snapshot
    restored_db = tmp_path / "restored" / "khaibao.sqlite3"
    env = {**server.env, "KHAIBAO_DATABASE_URL": f"sqlite:///{restored_db}"}
    restored = subprocess.run([KHAIBAO, "restore", str(backup_file)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    assert _rows(restored_db, "PRAGMA integrity_check") == [("ok",)]
    assert _refs(restored_db) == copied
    tables = [r[0] for r in _rows(backup_file, "SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        count = f'SELECT count(*) FROM "{table}"'  # noqa: S608
        assert _rows(restored_db, count) == _rows(backup_file, count), table
    # the restored database is a working one: migrate finds nothing to do
    migrated = subprocess.run([KHAIBAO, "migrate"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert "up to date" in migrated.stdout, migrated.stderr


def test_restore_refuses_a_damaged_backup(server, tmp_path):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    env = {**server.env, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'target.sqlite3'}"}
    done = subprocess.run([KHAIBAO, "restore", str(broken)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "restore:" in done.stderr
    assert not (tmp_path / "target.sqlite3").exists()
    missing = subprocess.run([KHAIBAO, "restore", str(tmp_path / "none.sqlite3")], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no backup" in missing.stderr


@pytest.mark.skipif(not PG_URL.startswith("postgres"),
                    reason="needs PostgreSQL (KHAIBAO_TEST_DATABASE_URL)")
def test_postgres_backup_under_load_and_restore(tmp_path):
    """PostgreSQL: ``khaibao backup`` runs pg_dump (one consistent snapshot), ``khaibao
    restore`` runs pg_restore into another database."""
    source, target = (f"khaibao_drill_{os.getpid()}_{kind}" for kind in ("src", "dst"))
    for name in (source, target):
        _pg(f'CREATE DATABASE "{name}"')
    source_url = re.sub(r"/[^/]*$", f"/{source}", PG_URL)
    target_url = re.sub(r"/[^/]*$", f"/{target}", PG_URL)
    server = start_server(tmp_path, {"KHAIBAO_DATABASE_URL": source_url})
    try:
        load = WriteLoad(signed_in_client(server)).start()
        try:
            deadline = time.monotonic() + 20
            while len(load.acked) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            acked_before = list(load.acked)
            dump = tmp_path / "khaibao.dump"
            done = server.khaibao("backup", str(dump))
        finally:
            load.stop()
        assert dump.stat().st_size > 0 and "Backup written" in done.stdout
        assert dump.stat().st_mode & 0o077 == 0  # personal data: owner only
        # the dump was checked: rows per table in it = rows per table in its snapshot
        backed_up = _summary(done.stdout)
        assert backed_up[0] >= 20 and backed_up[1] > 0, done.stdout
        env = {**server.env, "KHAIBAO_DATABASE_URL": target_url}
        restored = subprocess.run([KHAIBAO, "restore", str(dump)], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120)
        assert restored.returncode == 0, restored.stderr
        assert _summary(restored.stdout) == backed_up, restored.stdout
        refs = {r["client_ref"].rsplit(":", 1)[0]
                for r in _pg("SELECT client_ref FROM health_declaration", target_url)}
        assert set(acked_before) <= refs
        tables = [r["tablename"] for r in _pg(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", target_url)]
        assert len(tables) == backed_up[0]
        rows = 0
        for table in tables:
            count = f'SELECT count(*) AS n FROM "{table}"'  # noqa: S608
            rows += _pg(count, target_url)[0]["n"]
        assert rows == backed_up[1]
        for table in ("person", "account", "health_declaration", "region"):
            count = f'SELECT count(*) AS n FROM "{table}"'  # noqa: S608
            assert _pg(count, target_url)[0]["n"] > 0, table
    finally:
        stop_server(server)
        for name in (source, target):
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("engine", ENGINES)
def test_restore_refuses_while_a_server_uses_the_database(engine, tmp_path):
    """A restore under a running server would be lost (the server keeps writing to the
    replaced file, or into a database pg_restore is rewriting): it refuses with one line."""
    extra, names = {}, []
    if engine == "postgres":
        names = [f"khaibao_inuse_{os.getpid()}"]
        _pg(f'CREATE DATABASE "{names[0]}"')
        extra = {"KHAIBAO_DATABASE_URL": re.sub(r"/[^/]*$", f"/{names[0]}", PG_URL)}
    server = start_server(tmp_path, extra)
    try:
        copy = tmp_path / ("khaibao.dump" if engine == "postgres" else "copy.sqlite3")
        server.khaibao("backup", str(copy))
        client = signed_in_client(server)
        refused = subprocess.run([KHAIBAO, "restore", str(copy)], env=server.env, cwd=tmp_path,
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0, refused.stdout
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert "restore:" in refused.stderr and "server" in refused.stderr
        # the server goes on with its database untouched
        assert declaration(client, f"after-refusal-{os.getpid()}").status_code == 303
    finally:
        stop_server(server)
    # once the server has stopped, the same restore goes through
    restored = subprocess.run([KHAIBAO, "restore", str(copy)], env=server.env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    try:
        assert restored.returncode == 0, restored.stderr
    finally:
        for name in names:
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
