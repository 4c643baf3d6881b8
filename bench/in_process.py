"""Per-request cost of endpoints with the ASGI app called directly: no server, no sockets,
one request at a time — what the application itself costs, apart from hypercorn and h11.

    .venv/bin/python bench/in_process.py [--requests 1500] [--only scan,declare]
        [--profile cumulative|tottime] [--profile-endpoint scan] [--accept-encoding br]

Makes a fresh SQLite database in a temporary directory (an officer with a session, a
declared person, a venue, a citizen session), then times ``/ping``, ``/healthz``, the
officer's scan, a venue check-in (the same person again: the 30-minute repeat) and a
health declaration submit. ``--profile`` prints cProfile's top functions for one endpoint.
``--accept-encoding`` sends that header with every request, as browsers do (wrk does not, so
bench/http_ratio.py never measures the compression).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "localhost:8000"


async def call(app, method: str, path: str, headers: dict[str, str], body: bytes = b""
               ) -> tuple[int, bytes, list]:
    """One request through the ASGI app: (status, body, headers)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
             "server": ("localhost", 8000), "state": {},
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects

    messages = []

    async def send(message):
        messages.append(message)

    await app(scope, receive, send)
    return (messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:]),
            messages[0]["headers"])


def _csrf(body: bytes, headers: list) -> tuple[str, str]:
    token = re.search(rb'name="_csrf_token" value="([^"]+)"', body).group(1).decode()
    cookie = next(v for k, v in headers if k == b"set-cookie" and v.startswith(b"csrftoken="))
    return token, cookie.split(b";")[0].decode()


async def scenarios(app, settings) -> dict:
    """(method, path, headers, body maker) per endpoint, on fresh data."""
    from khaibao.citizens import people
    from khaibao.core import sessions
    from khaibao.venues import venues
    from tests.db_setup import SETUP_PRELUDE

    helpers: dict = {}
    exec(SETUP_PRELUDE, helpers)  # noqa: S102 (the tests' own setup helpers)
    _officer, officer_session = await helpers["officer_session"]("Đo Tải", "checkpoint")
    account, person_id = await helpers["make_person"](
        settings, "Nguyễn Văn An", f"046090{random.randrange(10**6):06d}", declared=True)
    token = (await people.get_person(account, person_id, settings)).token
    venue = await venues.create(venues.parse_venue({"name": "Chợ", "kind": "market"}),
                                settings)
    code = venue.code(settings.secret_key)
    citizen = await sessions.start("citizen", account)

    officer = {"host": HOST, "cookie": f"khaibao_officer={officer_session}"}
    _status, body, headers = await call(app, "GET", "/kiemtra/", officer)
    csrf, cookie = _csrf(body, headers)
    officer.update({"cookie": f"{officer['cookie']}; {cookie}", "x-csrftoken": csrf,
                    "content-type": "application/x-www-form-urlencoded",
                    "hx-request": "true"})
    phone = {"host": HOST, "cookie": f"khaibao_session={citizen}"}
    _status, body, headers = await call(app, "GET", f"/v/{code}", phone)
    csrf, cookie = _csrf(body, headers)
    phone.update({"cookie": f"{phone['cookie']}; {cookie}", "x-csrftoken": csrf,
                  "content-type": "application/x-www-form-urlencoded"})
    counter = iter(range(10**9))
    run = random.randrange(10**9)
    return {
        "ping": ("GET", "/ping", {"host": HOST}, lambda: b""),
        "healthz": ("GET", "/healthz", {"host": HOST}, lambda: b""),
        "scan": ("POST", "/kiemtra/tra-cuu", officer, lambda: f"q={token}".encode()),
        "checkin": ("POST", f"/v/{code}/check-in", phone,
                    lambda: f"_csrf_token={csrf}&persons={person_id}".encode()),
        "declare": ("POST", "/kbyt/khai-bao", phone, lambda: (
            f"_csrf_token={csrf}&persons={person_id}&pledge=1&places_visited="
            f"&client_ref=bench-{run}-{next(counter)}").encode()),
    }


async def main(args) -> None:
    from khaibao.app import create_app
    from khaibao.core.settings import Settings

    settings = Settings.from_env()
    app = create_app(settings)
    async with app.lifespan():
        found = await scenarios(app, settings)
        for name in args.only.split(","):
            method, path, headers, body = found[name]
            if args.accept_encoding:
                headers = {**headers, "accept-encoding": args.accept_encoding}
            status, text, _ = await call(app, method, path, headers, body())
            assert status < 400, (name, status, text[:300])
            for _ in range(100):  # warm up
                await call(app, method, path, headers, body())
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.requests):
                await call(app, method, path, headers, body())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{name:8} {1000 * wall / args.requests:7.3f} ms per request "
                  f"({1000 * cpu / args.requests:.3f} ms CPU), {len(text)} bytes")
            if args.profile and name == args.profile_endpoint:
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(args.requests):
                    await call(app, method, path, headers, body())
                profile.disable()
                pstats.Stats(profile).sort_stats(args.profile).print_stats(50)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--only", default="ping,healthz,scan,checkin,declare")
    parser.add_argument("--profile", choices=["cumulative", "tottime"], default="")
    parser.add_argument("--profile-endpoint", default="scan")
    parser.add_argument("--accept-encoding", default="",
                        help='e.g. "gzip, deflate, br" (what Chromium sends)')
    arguments = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="khaibao-inprocess-"))
    os.environ.update({
        "KHAIBAO_DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://{HOST}",
        "KHAIBAO_SMS_BACKEND": f"file:{directory / 'outbox.jsonl'}",
        "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE": "1000000000",
    })
    subprocess.run([str(Path(sys.executable).parent / "khaibao"), "migrate"], check=True,
                   capture_output=True, cwd=directory)
    asyncio.run(main(arguments))
