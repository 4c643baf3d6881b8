"""Time the quarantine decision against a database full of policies and arrivals.

    .venv/bin/python bench/policy_decision.py [--policies 10000] [--places 200000]
        [--decisions 2000] [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Fills a fresh database (a SQLite file in a temporary directory, or a new PostgreSQL database
beside the given URL, dropped afterwards unless ``--keep``) with Vietnam's regions, the given
number of policies over random wards and provinces (about one in ten with an older,
superseded version) and ArrivalPlace rows for arrivals spread over the last 30 days; then
times ``decisions.decide()`` for random persons' place sets (1–5 wards each), plus
``decide_for_arrival()`` and ``preview_affected()``, and prints mean / p50 / p99.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from khaibao.core import db
from khaibao.core.settings import Settings
from khaibao.policies import decisions
from khaibao.policies.policy_input import SEVERITY, PolicyInput
from khaibao.regions import regions
from khaibao.tables import Account, ArrivalDeclaration, ArrivalPlace, Person, Policy, Region

NOW = datetime.now(UTC).replace(microsecond=0)
BATCH = 1000


async def _postgres(url: str, drop: str | None = None) -> str:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        if drop:
            await connection.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            return drop
        name = f"khaibao_bench_{os.getpid()}_{secrets.token_hex(3)}"
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"mean {statistics.fmean(ordered):.3f} ms  p50 {statistics.median(ordered):.3f} ms  "
            f"p99 {p99:.3f} ms  max {ordered[-1]:.3f} ms  (n={len(ordered)})")


async def _insert_batches(rows, table, size: int) -> None:
    for start in range(0, len(rows), size):
        async with db.transaction():
            await table.insert(*rows[start:start + size])


async def fill(rng: random.Random, n_policies: int, n_places: int) -> tuple[list, list]:
    region_rows = await Region.select(Region.id, Region.code, Region.path, Region.kind).where(
        Region.kind.is_in(["province", "ward"]))
    wards = [r for r in region_rows if r["kind"] == "ward"]
    provinces = [r for r in region_rows if r["kind"] == "province"]

    started = time.perf_counter()
    rows, key = [], 0
    for _ in range(n_policies):
        key += 1
        target = rng.choice(provinces) if rng.random() < 0.2 else rng.choice(wards)
        measure = rng.choice(SEVERITY)
        starts = NOW - timedelta(days=rng.uniform(-5, 60))
        ends = None if rng.random() < 0.5 else starts + timedelta(days=rng.uniform(1, 90))
        values = dict(policy_key=key, target_region=target["id"], target_path=target["path"],
                      measure=measure, days=rng.randint(1, 28),
                      custom_text="Hạn chế đi lại" if measure == "custom" else "",
                      effective_from=starts, effective_to=ends, legal_reference="QĐ bench",
                      created_by=None, created_at=starts)
        if rng.random() < 0.1:  # an older version, superseded
            rows.append(Policy(**{**values, "version": 1, "measure": "self_monitor",
                                  "superseded_at": starts + timedelta(hours=1)}))
            values["version"] = 2
        rows.append(Policy(**{**values, "superseded_at": None}))
    await _insert_batches(rows, Policy, BATCH)
    print(f"policies: {len(rows)} rows ({n_policies} policies) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    account = await Account.insert(Account(phone="+84900000001", created_at=NOW)).returning(
        Account.id)
    person = await Person.insert(Person(
        account=account[0]["id"], full_name="Người Thử", id_type="none", birth_year=1990,
        sex="male", qr_reference="bench0000000001", qr_issued_at=NOW, created_at=NOW,
        updated_at=NOW)).returning(Person.id)
    person_id = person[0]["id"]

    started = time.perf_counter()
    arrivals, places, arrival_id, place_id = [], [], 0, 0
    first_arrival = (await ArrivalDeclaration.select(ArrivalDeclaration.id).order_by(
        ArrivalDeclaration.id, ascending=False).first() or {"id": 0})["id"]
    arrival_id = first_arrival
    while place_id < n_places:
        arrival_id += 1
        arrived = NOW - timedelta(days=rng.uniform(0, 30))
        destination = rng.choice(wards)
        arrivals.append(ArrivalDeclaration(
            id=arrival_id, person=person_id, client_ref=f"bench-{arrival_id}",
            submitted_at=arrived, departure_date=(arrived - timedelta(days=1)).date(),
            arrival_at=arrived, transport="car", destination_region=destination["id"],
            destination_path=destination["path"], officer_id=None, account=None,
            origin_region=None, checkpoint=None))
        for index in range(rng.randint(1, 5)):
            place_id += 1
            ward = rng.choice(wards)
            places.append(ArrivalPlace(id=place_id, arrival=arrival_id, region=ward["id"],
                                       path=ward["path"], is_origin=index == 0))
        if len(places) >= 20 * BATCH:
            await _insert_batches(arrivals, ArrivalDeclaration, BATCH // 4)
            await _insert_batches(places, ArrivalPlace, BATCH)
            arrivals, places = [], []
            print(f"  places: {place_id}", end="\r", flush=True)
    await _insert_batches(arrivals, ArrivalDeclaration, BATCH // 4)
    await _insert_batches(places, ArrivalPlace, BATCH)
    print(f"\narrivals: {arrival_id - first_arrival}, places: {place_id} in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    if not db.is_sqlite():
        await db.engine().run_ddl("ANALYZE")
    return wards, list(range(first_arrival + 1, arrival_id + 1))


async def measure(rng: random.Random, wards: list, arrival_ids: list[int], n: int) -> None:
    def person() -> list[decisions.Place]:
        return [decisions.Place(w["path"], w["code"], w["code"],
                               NOW - timedelta(days=rng.uniform(0, 20)))
                for w in rng.sample(wards, rng.randint(1, 5))]

    persons = [person() for _ in range(n)]
    for places in persons[:100]:  # warm up
        await decisions.decide(places, at=NOW)
    timings, measures = [], {}
    for places in persons:
        started = time.perf_counter()
        decision = await decisions.decide(places, at=NOW)
        timings.append((time.perf_counter() - started) * 1000)
        measures[decision.measure] = measures.get(decision.measure, 0) + 1
    print(f"decide():             {_percentiles(timings)}")
    print(f"  outcomes: {dict(sorted(measures.items()))}")

    # A local official's page decides arrivals in batches of local_arrivals.BATCH.
    batches = [persons[i:i + 200] for i in range(0, len(persons) - 199, 200)]
    one_by_one, together = [], []
    for batch in batches:
        started = time.perf_counter()
        singles = [await decisions.decide(places, at=NOW) for places in batch]
        one_by_one.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        many = await decisions.decide_many([(places, NOW) for places in batch])
        together.append((time.perf_counter() - started) * 1000)
        assert [d.measure for d in many] == [d.measure for d in singles]
    print(f"200 decisions, one by one: {_percentiles(one_by_one)}")
    print(f"200 decisions, decide_many: {_percentiles(together)}")

    timings = []
    for arrival_id in rng.sample(arrival_ids, min(n, len(arrival_ids))):
        started = time.perf_counter()
        await decisions.decide_for_arrival(arrival_id, at=NOW)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"decide_for_arrival(): {_percentiles(timings)}")

    timings = []
    for ward in rng.sample(wards, 20):
        proposal = PolicyInput(ward["code"], "home", 14, "", NOW, None, "")
        started = time.perf_counter()
        await decisions.preview_affected(proposal, at=NOW)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"preview_affected(ward): {_percentiles(timings)}")
    timings = []
    for code in ("VN-46", "VN-01", "VN-79"):
        proposal = PolicyInput(code, "home", 14, "", NOW, None, "")
        started = time.perf_counter()
        count = await decisions.preview_affected(proposal, at=NOW)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"preview_affected(province): {_percentiles(timings)} (last: {count} arrivals)")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--places", type=int, default=200_000,
                        help="ArrivalPlace rows (the 1,000,000 run takes a few minutes)")
    parser.add_argument("--decisions", type=int, default=2_000)
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL URL: a new database is made beside it")
    parser.add_argument("--keep", action="store_true", help="keep the filled database")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    directory = tempfile.mkdtemp(prefix="khaibao-bench-")
    if args.database_url.startswith("postgres"):
        url = await _postgres(args.database_url)
    else:
        url = f"sqlite:///{directory}/bench.sqlite3"
    print(f"database: {url}", flush=True)
    settings = Settings(database_url=url, base_url="http://localhost:8000",
                        secret_key=secrets.token_bytes(32), sms_backend="console")
    db.configure(settings)
    await db.connect()
    try:
        await db.migrate()
        await regions.ensure_vietnam_loaded()
        wards, arrival_ids = await fill(rng, args.policies, args.places)
        await measure(rng, wards, arrival_ids, args.decisions)
    finally:
        await db.disconnect()
        if url.startswith("postgres") and not args.keep:
            await _postgres(args.database_url, drop=urlsplit(url).path.lstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
