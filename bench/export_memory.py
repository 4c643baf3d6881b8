"""Peak memory of a 1 M-row CSV export from a real server process (streamed, bounded).

    .venv/bin/python bench/dashboard_queries.py      # fills /tmp/kb-bench.sqlite3 first
    .venv/bin/python bench/export_memory.py [--file /tmp/kb-bench.sqlite3]

Starts ``khaibao serve`` on a free local port against the bench file, signs an admin in (a
session made directly in the database), downloads ``/quan-tri/xuat-du-lieu/tai-ve`` (every
health declaration of the last 95 days) and reads it chunk by chunk, counting rows. The
server's heap (``RssAnon`` in /proc) is sampled during the download: its growth is what the
export costs, whatever the number of rows (see :class:`AnonSampler` for why not VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class AnonSampler(threading.Thread):
    """Peak anonymous memory (heap: RssAnon) of a process, sampled every 50 ms. VmHWM alone
    would also count the SQLite file's pages, which the server maps into memory (mmap_size):
    those are the OS page cache, shared and reclaimable, not memory the export holds."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, status_mb(self.pid, "RssAnon"))
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def admin_session() -> str:
    from khaibao.core import db
    from khaibao.core.settings import Settings
    from khaibao.officers import officers

    db.configure(Settings.from_env())
    await db.connect()
    try:
        admin = await officers.create("Bench Admin", officers.ADMIN)
        return await officers.start_session(admin.id)
    finally:
        await db.disconnect()


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser()
    parser.add_argument("--file", default="/tmp/kb-bench.sqlite3")
    path = Path(parser.parse_args().file)
    port = free_port()
    os.environ.update(KHAIBAO_DATABASE_URL=f"sqlite:///{path}", KHAIBAO_PURGE_DAILY="0",
                      KHAIBAO_BASE_URL=f"http://localhost:{port}")
    raw = asyncio.run(admin_session())
    server = subprocess.Popen([sys.executable, "-m", "khaibao.cli", "serve", "--port",
                               str(port)], cwd=path.parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url = f"http://localhost:{port}"
        for _ in range(100):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        # hypercorn runs the app in a child process: measure the process that serves.
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        pid = int(children[0]) if children else server.pid
        anon_before = status_mb(pid, "RssAnon")
        sampler = AnonSampler(pid)
        sampler.start()
        today = date.today()
        params = {"loai": "health_declaration", "tu": (today - timedelta(days=95)).isoformat(),
                  "den": (today + timedelta(days=1)).isoformat()}
        started = time.perf_counter()
        size = lines = 0
        with httpx.stream("GET", url + "/quan-tri/xuat-du-lieu/tai-ve", params=params,
                          cookies={"khaibao_officer": raw}, timeout=None,
                          headers={"Accept-Encoding": "identity"}) as response:
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_raw():
                size += len(chunk)
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        sampler.running = False
        sampler.join()
        print(f"exported {lines - 1:,} rows, {size / 1e6:.0f} MB in {seconds:.0f} s "
              f"({(lines - 1) / seconds:,.0f} rows/s); server heap (RssAnon) "
              f"{anon_before:.0f} MB before, peak {sampler.peak:.0f} MB during the export; "
              f"peak RSS with the mapped database file (VmHWM) {status_mb(pid, 'VmHWM'):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
