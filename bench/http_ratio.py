"""Requests/s of endpoints against the plaintext ceiling on one hypercorn process.

    .venv/bin/python bench/http_ratio.py [--duration 10] [--connections 64] [--workers 1]
        [--database-url postgresql://postgres@127.0.0.1:5432/khaibao_bench]

Starts ``khaibao serve`` on a fresh SQLite file (or the given PostgreSQL database), loads it
with wrk (Debian package ``wrk``) and prints requests/s, latency percentiles and each
endpoint's ratio to ``/ping`` (no database). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

KHAIBAO = str(Path(sys.executable).parent / "khaibao")

# (name, method, path): the first is the ceiling.
ENDPOINTS = [
    ("plaintext /ping", "GET", "/ping"),
    ("one query /healthz", "GET", "/healthz"),
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = {}
    for pct in ("50", "90", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", output)
        value, unit = float(match.group(1)), match.group(2)
        latencies[pct] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, **{f"p{k}": v for k, v in latencies.items()},
            "errors": float(errors.group(1)) if errors else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 1

    directory = Path(tempfile.mkdtemp(prefix="khaibao-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "KHAIBAO_DATABASE_URL": args.database_url or f"sqlite:///{directory / 'bench.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://localhost:{port}",
        "KHAIBAO_SMS_BACKEND": f"file:{directory / 'outbox.jsonl'}",
    }
    subprocess.run([KHAIBAO, "migrate"], env=env, cwd=directory, check=True,
                   capture_output=True)
    server = subprocess.Popen(
        [KHAIBAO, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://localhost:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        wrk(base + "/ping", 2, args.connections)  # warm up
        results = [(name, wrk(base + path, args.duration, args.connections))
                   for name, _method, path in ENDPOINTS]
    finally:
        server.terminate()
        server.wait(timeout=15)
    ceiling = results[0][1]["rps"]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{engine}, {args.workers} worker(s), {args.connections} connections, "
          f"{args.duration}s each, {os.cpu_count()} cores")
    print(f"{'endpoint':24} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    for name, r in results:
        print(f"{name:24} {r['rps']:9.0f} {r['p50']:8.2f} {r['p90']:8.2f} {r['p99']:8.2f} "
              f"{r['rps'] / ceiling:6.2f}" + (f"  ({r['errors']:.0f} errors)" if r["errors"]
                                              else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
