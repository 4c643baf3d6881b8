"""Open-loop load: offer the officer's scan at a fixed rate and measure latency honestly.

    .venv/bin/python bench/open_loop.py --url http://localhost:8000/kiemtra/tra-cuu \\
        --rate 1000 --duration 10 --check DIR/check.json

wrk is closed-loop (a new request only when one finishes), so a slow server is offered
less load and its latency looks better than what users see (coordinated omission); wrk2,
which paces, is not in Debian. This sends request *i* at ``start + i / rate`` whatever
happened before, over a pool of keep-alive connections (a new one is opened when all are
busy, up to ``--max-connections``), after a 2-second warm-up, and measures each latency
from the moment the request was *due*, so queueing in the server counts. ``check.json``
is written by bench/http_ratio.py's scan set-up (cookie, CSRF token, QR tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit


def _requests(url: str, check: dict) -> list[bytes]:
    parts = urlsplit(url)
    made = []
    for token in check["tokens"]:
        body = f"q={token}".encode()
        made.append((
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nHX-Request: true\r\n"
            f"Cookie: {check['cookie']}\r\nx-csrftoken: {check['csrf']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return made


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def run(url: str, rate: int, duration: float, check: dict, max_connections: int,
              idle: list[Connection]) -> dict:
    """One paced run; ``idle`` keeps the open connections for the next run."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = _requests(url, check)
    opened = len(idle)
    latencies: list[float] = []
    errors = 0
    late_starts = 0
    tasks = set()

    async def one(due: float, request: bytes) -> None:
        nonlocal opened, errors
        if idle:
            connection = idle.pop()
        else:
            opened += 1
            connection = await asyncio.open_connection(host, port)
        try:
            status = await _exchange(*connection, request)
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            connection[1].close()
            return
        latencies.append(time.perf_counter() - due)
        if status >= 400:
            errors += 1
        idle.append(connection)

    total = int(rate * duration)
    start = time.perf_counter() + 0.1
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late_starts += 1  # the generator itself fell behind (its CPU is shared)
        if opened - len(idle) >= max_connections and not idle:
            errors += 1  # every connection busy: count as failed rather than wait
            continue
        task = asyncio.create_task(one(due, requests[i % len(requests)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    return {"offered": rate, "achieved": len(latencies) / elapsed, "requests": total,
            "errors": errors, "connections": opened, "late_starts": late_starts,
            "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": latencies[-1] * 1000,
            "mean": statistics.fmean(latencies) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--check", required=True, help="check.json from bench/http_ratio.py")
    parser.add_argument("--max-connections", type=int, default=512)
    args = parser.parse_args()
    with open(args.check) as file:
        check = json.load(file)

    async def both() -> dict:
        idle: list[Connection] = []
        # warm-up (not counted): connections opened, templates compiled, caches filled
        await run(args.url, args.rate, 2, check, args.max_connections, idle)
        result = await run(args.url, args.rate, args.duration, check, args.max_connections,
                           idle)
        for _reader, writer in idle:
            writer.close()
        return result

    r = asyncio.run(both())
    print(f"open loop scan: offered {r['offered']} req/s for {args.duration:.0f}s, achieved "
          f"{r['achieved']:.0f} req/s, p50 {r['p50']:.2f} ms, p95 {r['p95']:.2f} ms, "
          f"p99 {r['p99']:.2f} ms, max {r['max']:.1f} ms, {r['errors']} errors, "
          f"{r['connections']} connections, {r['late_starts']} late starts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
