"""Fill a Khai Báo database quickly to a chosen size, for benchmarks (not for demos).

    .venv/bin/python bench/gen_data.py --persons 1000000 --checkins 10000000 \\
        --declarations 2000000 --venues 20000 [--database-url sqlite:///big.sqlite3]

The database is migrated first (``khaibao migrate``), then every row is generated *inside
the database engine* — a recursive CTE on SQLite, ``generate_series`` on PostgreSQL — so
no row crosses into Python. The big tables' secondary indexes are dropped before the load
and built again afterwards (one sort each instead of millions of random B-tree inserts),
then the planner's statistics are refreshed (ANALYZE).

Distributions: persons are fictional (names from common Vietnamese parts, no ID numbers),
two per phone account (the owner and a relative); a person's QR reference is their id in
10 digits (valid Crockford base32), so a benchmark can make the token of any person
(``tokens.make_token``). Check-ins and declarations fall over the last ``--days`` days;
check-ins pick the person uniformly and the venue with a skew (a few big markets get many
visitors: venue = n·u₁·u₂ for uniform u), stays last 30–150 minutes; 3 % of declarations
report symptoms. Rows are appended: run it on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # noqa: E402 (run as a script)

KHAIBAO = str(Path(sys.executable).parent / "khaibao")
BIG_TABLES = ("person", "account", "health_declaration", "check_in", "venue")

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quang", "Hữu")
GIVEN = ("An", "Bình", "Cúc", "Dũng", "Hoa", "Khang", "Lan", "Mai", "Nam", "Phúc", "Quỳnh",
         "Sơn", "Tâm", "Uyên", "Việt", "Yến")


def _pick(options: tuple[str, ...], index_sql: str) -> str:
    """SQL choosing one of ``options`` by an integer expression (same on both engines)."""
    cases = " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(options))
    return f"(CASE ({index_sql}) % {len(options)} {cases} END)"


# --- SQLite ----------------------------------------------------------------------------------

def _sqlite_ts(seconds_sql: str) -> str:
    # Piccolo's text form of an aware UTC datetime: "2026-11-26 00:47:15.267145+00:00"
    return f"(strftime('%Y-%m-%d %H:%M:%f', {seconds_sql}, 'unixepoch') || '000+00:00')"


def _sqlite_series(count: int, select: str, source: str = "n") -> str:
    """``select`` once for i = 1..count (``source`` may wrap the counter ``n``)."""
    return (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
            f" {select} FROM {source}")


def _sqlite_statements(args, now: int) -> list[tuple[str, str]]:
    persons, accounts = args.persons, (args.persons + 1) // 2
    span = args.days * 86400
    # Pseudo-random from i, never random(): SQLite may flatten the subquery and evaluate
    # random() again for every use of a column (a stay would end before it began).
    def rnd(prime: int) -> str:
        return f"((i * {prime} + {prime // 7}) % 1000000007)"
    name = " || ' ' || ".join((_pick(FAMILY, "i * 7"), _pick(MIDDLE, "i / 3"),
                               _pick(GIVEN, "i / 11")))
    return [
        ("accounts", "INSERT INTO account (phone, created_at, last_verified_at) "
         + _sqlite_series(accounts, f"SELECT '+8490' || printf('%08d', i), "
                                    f"{_sqlite_ts(str(now - span))}, NULL")),
        ("persons", "INSERT INTO person (account, is_owner, full_name, id_type, id_hash, "
         "id_masked, no_id_key, birth_year, sex, nationality, qr_reference, qr_issued_at, "
         "channel, created_at, updated_at) "
         + _sqlite_series(persons, f"SELECT (i + 1) / 2, i % 2, {name}, 'none', NULL, '', "
                          f"NULL, 1940 + i % 80, {_pick(('male', 'female'), 'i / 2')}, 'VN', "
                          f"printf('%010d', i), {_sqlite_ts(str(now - span))}, "
                          f"CASE i % 2 WHEN 1 THEN 'self' ELSE 'relative' END, "
                          f"{_sqlite_ts(str(now - span))}, {_sqlite_ts(str(now - span))}")),
        ("venues", "INSERT INTO venue (name, kind, active, code_reference, created_at) "
         + _sqlite_series(args.venues, f"SELECT 'Điểm đến ' || i, "
                                       f"{_pick(('market', 'shop', 'school', 'office'), 'i')}, "
                                       f"1, printf('V%09d', i), {_sqlite_ts(str(now - span))}")),
        ("declarations", "INSERT INTO health_declaration (person, account, client_ref, "
         "submitted_at, channel, symptoms, exposures, has_symptoms) "
         + _sqlite_series(args.declarations, "SELECT p, (p + 1) / 2, 'gen-' || i, "
                          f"{_sqlite_ts(f'{now} - t')}, 'self', "
                          "CASE WHEN s < 3 THEN 'fever' ELSE '' END, '', s < 3",
                          f"(SELECT i, 1 + {rnd(2654435761)} % {persons} AS p, "
                          f"{rnd(40503)} % {span} AS t, {rnd(7919)} % 100 AS s FROM n)")),
        ("check-ins", "INSERT INTO check_in (person, venue, account, checked_in_at, "
         "checked_out_at, ends_at, by_kind) "
         + _sqlite_series(args.checkins, f"SELECT p, v, (p + 1) / 2, "
                          f"{_sqlite_ts(f'{now} - t')}, NULL, {_sqlite_ts(f'{now} - t + d')}, "
                          "'self'",
                          f"(SELECT 1 + {rnd(2246822519)} % {persons} AS p, "
                          f"1 + CAST({args.venues} * (({rnd(104729)} % 1000) / 1000.0) * "
                          f"(({rnd(15485863)} % 997) / 997.0) AS INTEGER) AS v, "
                          f"{rnd(3266489917)} % {span} AS t, 1800 + {rnd(668265263)} % 7200 AS d"
                          " FROM n)")),
    ]


def load_sqlite(path: str, args) -> None:
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")  # a failed load is simply run again
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -1000000")  # 1 GB of page cache for the load
    connection.execute("PRAGMA temp_store = MEMORY")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
        f"tbl_name IN ({', '.join('?' * len(BIG_TABLES))})", BIG_TABLES).fetchall()
    # keep the unique ones (they are constraints); drop the plain ones for the load
    plain = [(n, s) for n, s in indexes if not s.upper().startswith("CREATE UNIQUE")]
    for name, _sql in plain:
        connection.execute(f'DROP INDEX "{name}"')
    now = int(time.time())
    for label, sql in _sqlite_statements(args, now):
        started = time.monotonic()
        connection.execute("BEGIN")
        connection.execute(sql)
        connection.execute("COMMIT")
        print(f"{label:14} {time.monotonic() - started:7.1f} s", flush=True)
    started = time.monotonic()
    for _name, sql in plain:
        connection.execute(sql)
    connection.execute("PRAGMA analysis_limit = 1000")  # sampled statistics: seconds, not minutes
    connection.execute("ANALYZE")
    connection.execute("PRAGMA journal_mode = WAL")  # what the app uses
    print(f"{'indexes':14} {time.monotonic() - started:7.1f} s", flush=True)
    connection.close()


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_statements(args, now: int) -> list[tuple[str, str]]:
    persons, accounts = args.persons, (args.persons + 1) // 2
    span = args.days * 86400
    name = " || ' ' || ".join((_pick(FAMILY, "i * 7"), _pick(MIDDLE, "i / 3"),
                               _pick(GIVEN, "i / 11")))
    start = f"to_timestamp({now - span})"

    def at(seconds_sql: str) -> str:
        return f"to_timestamp({seconds_sql})"

    return [
        ("accounts", "INSERT INTO account (phone, created_at, last_verified_at) "
         f"SELECT '+8490' || lpad(i::text, 8, '0'), {start}, NULL "
         f"FROM generate_series(1, {accounts}) i"),
        ("persons", "INSERT INTO person (account, is_owner, full_name, id_type, id_hash, "
         "id_masked, no_id_key, birth_year, sex, nationality, qr_reference, qr_issued_at, "
         "channel, created_at, updated_at) "
         f"SELECT (i + 1) / 2, i % 2 = 1, {name}, 'none', NULL, '', NULL, 1940 + i % 80, "
         f"{_pick(('male', 'female'), 'i / 2')}, 'VN', lpad(i::text, 10, '0'), {start}, "
         f"CASE i % 2 WHEN 1 THEN 'self' ELSE 'relative' END, {start}, {start} "
         f"FROM generate_series(1, {persons}) i"),
        ("venues", "INSERT INTO venue (name, kind, active, code_reference, created_at) "
         f"SELECT 'Điểm đến ' || i, {_pick(('market', 'shop', 'school', 'office'), 'i')}, "
         f"true, 'V' || lpad(i::text, 9, '0'), {start} "
         f"FROM generate_series(1, {args.venues}) i"),
        ("declarations", "INSERT INTO health_declaration (person, account, client_ref, "
         "submitted_at, channel, symptoms, exposures, has_symptoms) "
         f"SELECT p, (p + 1) / 2, 'gen-' || i, {at(f'{now} - t')}, 'self', "
         "CASE WHEN s < 3 THEN 'fever' ELSE '' END, '', s < 3 "
         f"FROM (SELECT i, 1 + floor(random() * {persons})::int AS p, "
         f"floor(random() * {span})::int AS t, floor(random() * 100)::int AS s "
         f"FROM generate_series(1, {args.declarations}) i) g"),
        ("check-ins", "INSERT INTO check_in (person, venue, account, checked_in_at, "
         "checked_out_at, ends_at, by_kind) "
         f"SELECT p, v, (p + 1) / 2, {at(f'{now} - t')}, NULL, {at(f'{now} - t + d')}, 'self' "
         f"FROM (SELECT 1 + floor(random() * {persons})::int AS p, "
         f"1 + floor({args.venues} * random() * random())::int AS v, "
         f"floor(random() * {span})::int AS t, 1800 + floor(random() * 7200)::int AS d "
         f"FROM generate_series(1, {args.checkins}) i) g"),
    ]


async def load_postgres(url: str, args) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
            "tablename = ANY($1::text[]) AND indexdef NOT LIKE 'CREATE UNIQUE%'",
            list(BIG_TABLES))
        for row in indexes:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        await connection.execute("SET synchronous_commit = off")
        for label, sql in _pg_statements(args, int(time.time())):
            started = time.monotonic()
            await connection.execute(sql)
            print(f"{label:14} {time.monotonic() - started:7.1f} s", flush=True)
        started = time.monotonic()
        await connection.execute("SET maintenance_work_mem = '1GB'")
        for row in indexes:
            await connection.execute(row["indexdef"])
        await connection.execute("ANALYZE")
        print(f"{'indexes':14} {time.monotonic() - started:7.1f} s", flush=True)
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--checkins", type=int, default=10_000)
    parser.add_argument("--declarations", type=int, default=2_000)
    parser.add_argument("--venues", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get(
        "KHAIBAO_DATABASE_URL", "sqlite:///bench-data.sqlite3"))
    args = parser.parse_args()
    env = {**os.environ, "KHAIBAO_DATABASE_URL": args.database_url}
    started = time.monotonic()
    subprocess.run([KHAIBAO, "migrate"], env=env, check=True, capture_output=True)
    if args.database_url.startswith("sqlite:///"):
        load_sqlite(args.database_url.removeprefix("sqlite:///"), args)
    else:
        asyncio.run(load_postgres(args.database_url, args))
    print(f"{'total':14} {time.monotonic() - started:7.1f} s  ({args.persons:,} persons, "
          f"{args.declarations:,} declarations, {args.checkins:,} check-ins, "
          f"{args.venues:,} venues)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
