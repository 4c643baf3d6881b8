"""`khaibao backup` (SQLite) while another connection commits ~200 writes a second.

    .venv/bin/python bench/backup_under_load.py [--rows 120000] [--rounds 3]

Builds a WAL database of ``--rows`` rows of ~300 bytes with an index (120,000 rows ≈ 80 MB, the
size of Huế's database at its peak), starts a busy writer in another process (200 committed
inserts/s on its own connection, as a busy server makes) and times ``backup.backup`` — one
``VACUUM INTO`` snapshot — ``--rounds`` times. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def busy_writer(path: str, per_second: int, written, stop) -> None:
    connection = sqlite3.connect(path, timeout=30)
    next_at = time.perf_counter()
    while not stop.is_set():
        connection.execute("INSERT INTO note (body) VALUES (?)", (f"busy {written.value}",))
        connection.commit()
        written.value += 1
        next_at += 1 / per_second
        time.sleep(max(0.0, next_at - time.perf_counter()))
    connection.close()


def main(args) -> None:
    from khaibao.admin import backup
    from khaibao.core.settings import Settings
    from tests.unit.test_backup import WRITES_PER_SECOND, large_database

    directory = Path(tempfile.mkdtemp(prefix="khaibao-backup-"))
    live = directory / "live.sqlite3"
    large_database(live, rows=args.rows)
    os.environ.update({"KHAIBAO_DATABASE_URL": f"sqlite:///{live}",
                       "KHAIBAO_BASE_URL": "http://localhost:8000"})
    settings = Settings.from_env()
    print(f"database: {live.stat().st_size / 2**20:.0f} MB, writer: {WRITES_PER_SECOND}/s")
    written, stop = multiprocessing.Value("q", 0), multiprocessing.Event()
    writer = multiprocessing.Process(target=busy_writer,
                                     args=(str(live), WRITES_PER_SECOND, written, stop))
    writer.start()
    try:
        time.sleep(1)
        for round_ in range(args.rounds):
            before, started = written.value, time.perf_counter()
            report = backup.backup(settings, directory / f"copy-{round_}.sqlite3")
            seconds = time.perf_counter() - started
            print(f"round {round_ + 1}: {seconds:.2f} s, {written.value - before} writes "
                  f"committed meanwhile, {report}")
    finally:
        stop.set()
        writer.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args())
