"""The officer's scan while the retention purge runs: p50/p99 idle, then during the purge.

    .venv/bin/python bench/purge_pacing.py [--rows 180000] [--rate 20] [--idle 10]
        [--unpaced] [--batch N]

Makes a fresh SQLite database in a temporary directory (as bench/in_process.py does), adds
``--rows`` check-ins older than the retention period, then sends scans through the ASGI app at
``--rate`` per second (open loop: one every 1/rate s, each timed from its planned start) for
``--idle`` seconds idle and then for as long as ``retention.purge`` runs in the same process —
as the scheduled purge runs inside a server process. ``--unpaced`` runs the purge as it was before
pacing (5,000-row batches, no pause) for comparison. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from in_process import HOST, call, scenarios  # noqa: E402


async def scans_until(app, scan, rate: float, done) -> list[float]:
    """Scans at ``rate``/s until ``done()``; each one's latency from its planned start, ms."""
    method, path, headers, body = scan
    latencies: list[float] = []
    pending: set[asyncio.Task] = set()
    interval = 1 / rate
    planned = time.perf_counter()

    async def one(start: float) -> None:
        status, text, _ = await call(app, method, path, headers, body())
        assert status < 400, (status, text[:200])
        latencies.append(1000 * (time.perf_counter() - start))

    while not done():
        task = asyncio.create_task(one(planned))
        pending.add(task)
        task.add_done_callback(pending.discard)
        planned += interval
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
    await asyncio.gather(*pending)
    return latencies


def summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name:14} {len(ordered):6d} scans  p50 {statistics.median(ordered):7.2f} ms  "
            f"p99 {p99:7.2f} ms  max {ordered[-1]:7.2f} ms")


async def seed(rows: int, settings) -> None:
    """Old check-ins of another person than the one scanned (the scan reads its person's
    recent check-ins: they must not shrink under it as the purge goes)."""
    from khaibao.core import clock
    from khaibao.tables import CheckIn, Venue
    from tests.db_setup import SETUP_PRELUDE

    helpers: dict = {}
    exec(SETUP_PRELUDE, helpers)  # noqa: S102 (the tests' own setup helpers)
    _account, person = await helpers["make_person"](settings, "Trần Thị Cũ", "046090999999")
    venue = (await Venue.select(Venue.id).first())["id"]
    old = clock.now() - timedelta(days=settings.retention_days + 5)
    for start in range(0, rows, 5000):
        await CheckIn.insert(*[CheckIn(person=person, venue=venue, checked_in_at=old,
                                       ends_at=old) for _ in range(min(5000, rows - start))])


async def main(args) -> None:
    from khaibao.admin import retention
    from khaibao.app import create_app
    from khaibao.core.settings import Settings

    settings = Settings.from_env()
    app = create_app(settings)
    if args.unpaced:
        retention.BATCH, retention.PAUSE_RATIO, retention.MIN_PAUSE = 5000, 0.0, 0.0
    elif args.batch:
        retention.BATCH = args.batch
    async with app.lifespan():
        found = await scenarios(app, settings)
        started = time.perf_counter()
        await seed(args.rows, settings)
        print(f"seeded {args.rows} old check-ins in {time.perf_counter() - started:.1f} s")
        scan = found["scan"]
        for _ in range(200):  # warm up
            await call(app, scan[0], scan[1], scan[2], scan[3]())
        idle_until = time.perf_counter() + args.idle
        idle = await scans_until(app, scan, args.rate, lambda: time.perf_counter() > idle_until)
        purge = asyncio.create_task(retention.purge(settings, trigger="bench"))
        started = time.perf_counter()
        during = await scans_until(app, scan, args.rate, purge.done)
        report = purge.result()
        seconds = time.perf_counter() - started
        mode = "unpaced (5,000-row batches, no pause)" if args.unpaced else (
            f"paced ({retention.BATCH}-row batches, pause {retention.PAUSE_RATIO:g}× the batch)")
        print(f"purge {mode}: {report.counts['check_ins']['deleted']} check-ins deleted in "
              f"{seconds:.1f} s")
        print(summary("idle", idle))
        print(summary("during purge", during))
        ratio = sorted(during)[int(len(during) * 0.99)] / sorted(idle)[int(len(idle) * 0.99)]
        print(f"p99 during / idle: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=180_000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--idle", type=float, default=10)
    parser.add_argument("--unpaced", action="store_true")
    parser.add_argument("--batch", type=int, default=0, help="rows per batch (default: the "
                        "product's retention.BATCH)")
    arguments = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="khaibao-purge-"))
    os.environ.update({
        "KHAIBAO_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://{HOST}",
        "KHAIBAO_SMS_BACKEND": f"file:{directory / 'outbox.jsonl'}",
        "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE": "1000000000",
        "KHAIBAO_PURGE_DAILY": "0",
    })
    subprocess.run([str(Path(sys.executable).parent / "khaibao"), "migrate"], check=True,
                   capture_output=True, cwd=directory)
    asyncio.run(main(arguments))
