"""The migration to "one ID number, any number of phones" on a database of the old shape
(``person.id_hash`` unique): every row keeps its id, ID hash, QR reference and what points at
it (declarations, on SQLite too, where the table is rebuilt); afterwards a second phone may
hold the ID, one phone only once, and foreign keys are still enforced.

Runs in its own interpreter on its own new database (SQLite file, or a new PostgreSQL
database beside ``KHAIBAO_TEST_DATABASE_URL``): configuring an engine in the test process
would rebind the tables of every other test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r'''
import asyncio, json, os, secrets, sys
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from piccolo.apps.migrations.commands.forwards import run_forwards

from khaibao.core import db
from khaibao.core.settings import Settings

BEFORE = "2026-11-26T01:40:57:766892"  # the last migration of the old shape
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def new_database():
    base = os.environ.get("KHAIBAO_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{sys.argv[1]}/old_shape.sqlite3", None
    import asyncpg
    name = f"khaibao_migration_{os.getpid()}_{secrets.token_hex(3)}"
    connection = await asyncpg.connect(base)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return urlunsplit(urlsplit(base)._replace(path="/" + name)), (base, name)


async def drop(made):
    if made is None:
        return
    import asyncpg
    base, name = made
    connection = await asyncpg.connect(base)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


PERSON = ("INSERT INTO person (account, is_owner, full_name, id_type, id_hash, id_masked, "
          "id_encrypted, no_id_key, birth_year, sex, nationality, address_detail, bhyt_masked, "
          "bhyt_encrypted, qr_reference, qr_issued_at, channel, created_at, updated_at) VALUES "
          "({}, {}, {}, 'cccd', {}, '046***123', NULL, NULL, 1960, 'female', 'VN', '', '', "
          "NULL, {}, {}, 'self', {}, {}) RETURNING id")


async def add_person(account, name, id_hash, reference):
    rows = await db.execute(PERSON, account, True, name, id_hash, reference, NOW, NOW, NOW)
    return rows[0]["id"]


async def refused(sql, *args):
    try:
        await db.execute(sql, *args)
    except Exception as error:
        return type(error).__name__
    return None


async def run():
    url, made = await new_database()
    settings = Settings(database_url=url, base_url="http://localhost:8000",
                        secret_key=b"migration-test-key-0123456789abcdef")
    db.configure(settings)
    await db.connect()
    out = {}
    try:
        assert (await run_forwards(app_name="khaibao", migration_id=BEFORE)).success
        accounts = []
        for phone in ("+84905000001", "+84905000002"):
            rows = await db.execute("INSERT INTO account (phone, created_at) VALUES ({}, {}) "
                                    "RETURNING id", phone, NOW)
            accounts.append(rows[0]["id"])
        holder = await add_person(accounts[0], "Trần Thị Mẹ", "a" * 64, "REFHOLDER0000001")
        entered = await add_person(None, "Lê Văn Ba", "b" * 64, "REFENTERED000001")
        await db.execute(
            "INSERT INTO health_declaration (person, account, client_ref, submitted_at, "
            "channel, places_visited, symptoms, exposures, has_symptoms) VALUES "
            "({}, {}, 'old-ref-0001:0', {}, 'self', '', 'cough', '', {})",
            holder, accounts[0], NOW, True)
        out["old_unique"] = await refused(PERSON, accounts[1], "Kẻ Khác", "a" * 64,
                                          "REFOTHER00000001", NOW, NOW, NOW)

        out["applied"] = await db.migrate()
        out["pending"] = await db.pending_migrations()
        rows = await db.fetch("SELECT id, account, full_name, id_hash, qr_reference FROM person "
                              "ORDER BY id")
        out["persons"] = [[r["id"] == p, r["full_name"], r["id_hash"][:1], r["qr_reference"]]
                          for r, p in zip(rows, (holder, entered))]
        declared = await db.fetch("SELECT person, symptoms FROM health_declaration")
        out["declarations"] = [[r["person"] == holder, r["symptoms"]] for r in declared]
        second = await add_person(accounts[1], "Kẻ Khác", "a" * 64, "REFOTHER00000001")
        out["same_id"] = len(await db.fetch("SELECT id FROM person WHERE id_hash = {}",
                                            "a" * 64))
        out["twice_on_one_phone"] = await refused(PERSON, accounts[1], "Lần Hai", "a" * 64,
                                                  "REFOTHER00000002", NOW, NOW, NOW)
        out["no_such_person"] = await refused(
            "INSERT INTO health_declaration (person, client_ref, submitted_at, channel) "
            "VALUES ({}, 'old-ref-0002:0', {}, 'self')", second + 1000, NOW)
    finally:
        await db.disconnect()
        await drop(made)
    print(json.dumps(out))


asyncio.run(run())
'''


def test_old_shape_database_is_migrated(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["old_unique"] is not None  # the old shape: one phone per ID
    # the identity migration (and any later one) ran, nothing is left
    assert "2026-12-07T23:50:00:000000" in out["applied"] and out["pending"] == []
    assert out["persons"] == [[True, "Trần Thị Mẹ", "a", "REFHOLDER0000001"],
                              [True, "Lê Văn Ba", "b", "REFENTERED000001"]]
    assert out["declarations"] == [[True, "cough"]]
    assert out["same_id"] == 2
    assert out["twice_on_one_phone"] is not None
    assert out["no_such_person"] is not None  # foreign keys still enforced
