"""Split a py-spy profile of the officer scan into the parts the scan's-cost work tracks.

    py-spy record --gil --threads --format raw --rate 200 --duration 8 -o scan.raw --pid PID
    .venv/bin/python bench/profile_split.py scan.raw

Record the server (PID of ``khaibao serve``) while only the scan runs — e.g. attach once
``bench/http_ratio.py --only scan`` has finished its ``/ping`` — so that every sample is a scan.
Stacks are read below the event loop's ``Handle._run``; a stack counts for the first part of
this list it touches (the guard before the handler, the handler before Litestar, Litestar before
hypercorn). Samples of other threads (the SQLite writer) are counted apart.
"""

from __future__ import annotations

import argparse
from collections import Counter

# (part, any of these texts in the stack below the event loop)
PARTS = [
    ("officer guard (session + officer read)", ("routes/officers/session.py",)),
    ("handler: rendering", ("render (khaibao/core/web.py", "jinja2")),
    ("handler: form and \"Ghi nhận\" reference", ("_posted (khaibao/routes", "pass_reference")),
    ("handler: lookup + rate limit + audit (with the writes' hops)",
     ("khaibao/checks/", "khaibao/officers/lookups.py", "khaibao/core/rate_limits.py",
      "khaibao/core/audit.py", "khaibao/core/sqlite_engine.py", "khaibao/core/db.py",
      "khaibao/routes/checks/check.py")),
    ("Litestar + app middleware, routing, dependency injection, response",
     ("litestar/", "khaibao/")),
    ("hypercorn + h11", ("hypercorn/", "h11/")),
]
LOOP = "event loop itself (select, scheduling)"
OTHER = "event loop callbacks, other"


def split(lines) -> tuple[Counter, Counter]:
    """(samples per part of the loop's thread, samples per thread kind)."""
    parts: Counter = Counter()
    threads: Counter = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        if "MainThread" not in frames[0]:
            threads["other threads (SQLite writer)"] += int(count)
            continue
        threads["event loop thread"] += int(count)
        runs = [i for i, frame in enumerate(frames)
                if frame.startswith("Handle._run (asyncio/events.py")]
        if not runs:
            parts[LOOP] += int(count)
            continue
        below = ";".join(frames[runs[0] + 1:])
        part = next((name for name, marks in PARTS if any(m in below for m in marks)), OTHER)
        parts[part] += int(count)
    return parts, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="py-spy --format raw output")
    args = parser.parse_args()
    with open(args.profile) as lines:
        parts, threads = split(lines)
    total, every = sum(parts.values()), sum(threads.values())
    for name, count in threads.most_common():
        print(f"{name:40} {100 * count / every:5.1f} % of samples")
    for name, count in parts.most_common():
        print(f"  {name:66} {100 * count / total:5.1f} %  ({count})")


if __name__ == "__main__":
    main()
