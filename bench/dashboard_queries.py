"""Dashboard query time with 1 M health declarations (target: < 300 ms for a whole board).

    .venv/bin/python bench/dashboard_queries.py [--rows 1000000] [--file /tmp/kb-bench.sqlite3]

Fills a separate SQLite file quickly (plain sqlite3 ``executemany``, same schema: ``khaibao
migrate`` first) with declarations spread over 90 days in 40 wards of one province, plus
arrivals, check-ins, checkpoint scans and OTP codes (a tenth as many each), then times
:func:`dashboards.board` — the six aggregate queries of one dashboard page — for the whole
deployment, the province and one ward, over 7, 30 and 90 days (best of 3 runs
each; wall time and this process's CPU time, which other load on the machine does not
inflate; "first" is the first run's wall time, which counts the finished days missing from
``daily_count`` — ``--forget`` empties that table first to measure this cold fill). The file
is kept: a second run with the same ``--file`` skips the filling. ``bench/export_memory.py``
uses the same file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

WARDS = 40
DAYS = 90


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00:00")


def fill(path: Path, rows: int) -> None:
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([sys.executable, "-m", "khaibao.cli", "migrate"], env=env, check=True,
                   capture_output=True, cwd=path.parent)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    if con.execute("SELECT count(*) FROM health_declaration").fetchone()[0] >= rows:
        return
    rng = random.Random(1)
    now = datetime.now(UTC)
    con.execute("INSERT INTO region (code, name, name_folded, kind, parent, path, depth) VALUES "
                "('VN', 'Việt Nam', 'viet nam', 'country', NULL, '/VN/', 0)")
    con.execute("INSERT INTO region (code, name, name_folded, kind, parent, path, depth) VALUES "
                "('VN-46', 'Huế', 'hue', 'province', 1, '/VN/VN-46/', 1)")
    con.execute("INSERT INTO region (code, name, name_folded, kind, parent, path, depth) VALUES "
                "('VN-01', 'Hà Nội', 'ha noi', 'province', 1, '/VN/VN-01/', 1)")
    ward_ids = []
    for i in range(WARDS):
        code = f"VN-46-{i:05d}"
        cur = con.execute(
            "INSERT INTO region (code, name, name_folded, kind, parent, path, depth) "
            "VALUES (?, ?, ?, 'ward', 2, ?, 2)", (code, f"Phường {i}", f"phuong {i}",
                                                  f"/VN/VN-46/{code}/"))
        ward_ids.append((cur.lastrowid, f"/VN/VN-46/{code}/"))
    origin = con.execute("INSERT INTO region (code, name, name_folded, kind, parent, path, depth)"
                         " VALUES ('VN-01-00001', 'Hoàn Kiếm', 'hoan kiem', 'ward', 3, "
                         "'/VN/VN-01/VN-01-00001/', 2)").lastrowid
    persons = 20000
    con.executemany(
        "INSERT INTO person (is_owner, full_name, id_type, id_hash, id_masked, birth_year, sex, "
        "nationality, region, address_detail, bhyt_masked, qr_reference, qr_issued_at, "
        "channel, created_at, updated_at) VALUES (0, ?, 'none', NULL, '', 1980, 'male', 'VN', ?, "
        "'', '', ?, ?, 'paper', ?, ?)",
        ((f"Người {i}", ward_ids[i % WARDS][0], f"R{i:09d}", _ts(now), _ts(now), _ts(now))
         for i in range(persons)))
    con.execute("INSERT INTO checkpoint (name, region, place, active, created_at) "
                "VALUES ('Chốt', ?, '', 1, ?)", (ward_ids[0][0], _ts(now)))
    con.execute("INSERT INTO officer (name, role, active, user_handle, created_at) VALUES "
                "('Bench', 'checkpoint', 1, 'bench', ?)", (_ts(now),))

    def moment() -> str:
        return _ts(now - timedelta(seconds=rng.randrange(DAYS * 86400)))

    def batches(make, count):
        for start in range(0, count, 50000):
            yield [make(i) for i in range(start, min(start + 50000, count))]

    started = time.perf_counter()
    for chunk in batches(lambda i: (1 + i % persons, f"b-{i}", moment(),
                                    int(rng.random() < .05), ward_ids[i % WARDS][0]), rows):
        con.executemany(
            "INSERT INTO health_declaration (person, client_ref, submitted_at, channel, "
            "places_visited, symptoms, exposures, has_symptoms, region) "
            "VALUES (?, ?, ?, 'self', '', '', '', ?, ?)", chunk)
    small = rows // 10
    for chunk in batches(lambda i: (1 + i % persons, f"a-{i}", moment(), origin,
                                    ward_ids[i % WARDS][0], ward_ids[i % WARDS][1]), small):
        con.executemany(
            "INSERT INTO arrival_declaration (person, client_ref, submitted_at, channel, "
            "origin_country, origin_region, origin_detail, departure_date, arrival_at, "
            "transport, vehicle_number, destination_region, destination_path, "
            "destination_detail, purpose, contact_phone) VALUES (?, ?, ?, 'self', 'VN', ?, '', "
            "'2026-01-01', ?, 'car', '', ?, ?, '', '', '')",
            [(p, c, t, o, t, w, path) for p, c, t, o, w, path in chunk])
    con.executemany(
        "INSERT INTO venue (name, kind, region, region_path, address, owner_org, active, "
        "code_reference, created_at) VALUES (?, 'market', ?, ?, '', '', 1, ?, ?)",
        [(f"Chợ {i}", w, p, f"V{i:09d}", _ts(now)) for i, (w, p) in enumerate(ward_ids)])
    for chunk in batches(lambda i: (1 + i % persons, 1 + i % WARDS, moment()), small):
        con.executemany("INSERT INTO check_in (person, venue, checked_in_at, ends_at, by_kind) "
                        "VALUES (?, ?, ?, ?, 'self')", [(p, v, t, t) for p, v, t in chunk])
    for chunk in batches(lambda i: (1 + i % persons, moment(),
                                    rng.choice(("green", "green", "yellow", "red"))), small):
        con.executemany("INSERT INTO check_pass (person, officer, checkpoint, at, colour, "
                        "reason) VALUES (?, 1, 1, ?, ?, '')", chunk)
    for chunk in batches(lambda i: (f"+8490{i % 50000:07d}", moment(),
                                    rng.choice(("used", "used", "voided", "burned"))), small):
        con.executemany("INSERT INTO otp_code (phone, purpose, code_hash, created_at, "
                        "expires_at, attempts, state) VALUES (?, 'sign_in', '', ?, ?, 0, ?)",
                        [(ph, t, t, s) for ph, t, s in chunk])
    con.commit()
    con.execute("ANALYZE")
    con.close()
    print(f"filled {rows:,} declarations (+{small:,} of each other kind) in "
          f"{time.perf_counter() - started:.1f} s")


async def measure(path: Path, *, forget: bool = False) -> None:
    os.environ["KHAIBAO_DATABASE_URL"] = f"sqlite:///{path}"
    from khaibao.admin import dashboards
    from khaibao.core import db
    from khaibao.core.settings import Settings

    db.configure(Settings.from_env())
    await db.connect()
    try:
        if forget:
            await db.execute("DELETE FROM daily_count")
        scopes = [("everything", dashboards.Scope()),
                  ("province", dashboards.Scope("/VN/VN-46/", "VN-46", "Huế")),
                  ("one ward", dashboards.Scope("/VN/VN-46/VN-46-00007/", "VN-46-00007", "P7"))]
        for name, scope in scopes:
            for days in dashboards.PERIODS:
                best = cpu = float("inf")
                first = None
                for _ in range(3):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    board = await dashboards.board(scope, dashboards.period(days))
                    best = min(best, time.perf_counter() - started)
                    first = first if first is not None else time.perf_counter() - started
                    cpu = min(cpu, time.process_time() - cpu_started)
                print(f"{name:>10} {days:>2} days: {best * 1000:7.1f} ms wall, "
                      f"{cpu * 1000:7.1f} ms CPU, first {first * 1000:7.1f} ms "
                      f"({board.declaration_total:,} declarations)")
    finally:
        await db.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", default="/tmp/kb-bench.sqlite3")
    parser.add_argument("--forget", action="store_true",
                        help="empty daily_count first (measure the cold fill)")
    args = parser.parse_args()
    path = Path(args.file)
    fill(path, args.rows)
    asyncio.run(measure(path, forget=args.forget))


if __name__ == "__main__":
    main()
