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

# (name, method, path): the first is the ceiling. POST endpoints get a wrk Lua script made by
# prepare_check() (officer cookie, CSRF token, body).
ENDPOINTS = [
    ("plaintext /ping", "GET", "/ping"),
    ("one query /healthz", "GET", "/healthz"),
    ("check scan /kiemtra", "POST", "/kiemtra/tra-cuu"),
]

# Makes, in the server's database, a checkpoint officer with a session and a person with a
# health declaration; prints the session id and the person's QR token.
_CHECK_SETUP = r"""
import asyncio, json, random, uuid
from khaibao import db, declarations, officers, people
from khaibao.declarations import HealthData
from khaibao.settings import Settings

async def main():
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        officer = await officers.create("Cán bộ Đo Tải", "checkpoint")
        session = await officers.start_session(officer.id)
        account = await people.account_for_phone(f"+84905{random.randrange(10**6):06d}")
        data = people.parse_person({
            "full_name": "Nguyễn Văn An", "id_type": "cccd",
            "id_number": f"046090{random.randrange(10**6):06d}",
            "birth_year": "1990", "sex": "male", "nationality": "VN", "region": "",
            "address_detail": "", "bhyt": ""})
        async with db.write_transaction():
            person_id = await people.create_person(account, data, settings, is_owner=True,
                                                   channel="self")
        await declarations.submit(account, person_ids=[person_id], new_persons=[],
                                  health=HealthData("", (), (), True),
                                  client_ref=uuid.uuid4().hex, settings=settings)
        view = await people.get_person(account, person_id, settings)
        print(json.dumps({"session": session, "token": view.token}))
    finally:
        await db.disconnect()

asyncio.run(main())
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_check(env: dict[str, str], directory: Path, base: str) -> Path:
    """A wrk script POSTing a person's QR token to the officer lookup, as htmx does: the
    officer's session cookie, the CSRF cookie and header, the token in the body."""
    import json
    from http.cookies import SimpleCookie

    made = json.loads(subprocess.run(
        [sys.executable, "-c", _CHECK_SETUP], env=env, cwd=directory, check=True,
        capture_output=True, text=True).stdout.strip().splitlines()[-1])
    officer_cookie = f"khaibao_officer={made['session']}"
    request = urllib.request.Request(base + "/kiemtra/", headers={"Cookie": officer_cookie})
    with urllib.request.urlopen(request, timeout=5) as response:
        page = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    cookie = f"{officer_cookie}; csrftoken={cookies['csrftoken'].value}"
    script = directory / "check.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "q={made["token"]}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        'wrk.headers["HX-Request"] = "true"\n'
        f'wrk.headers["Cookie"] = "{cookie}"\n'
        f'wrk.headers["x-csrftoken"] = "{csrf}"\n'
    )
    return script


def wrk(url: str, duration: int, connections: int, script: Path | None = None
        ) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
         *(["-s", str(script)] if script else []), url],
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
        # the load is one officer: lift the per-officer lookup cap out of the way
        "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE": "1000000000",
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
        check_script = prepare_check(env, directory, base)
        wrk(base + "/ping", 2, args.connections)  # warm up
        results = [(name, wrk(base + path, args.duration, args.connections,
                              check_script if method == "POST" else None))
                   for name, method, path in ENDPOINTS]
        for name, prepare in SCENARIOS:
            path, script = prepare(env, directory, base)
            results.append((name, wrk(base + path, args.duration, args.connections, script)))
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


# Makes, in the server's database, a venue and CHECKIN_ACCOUNTS citizen phones, each with a
# declared person and a citizen session; prints the venue code and (session, person) pairs.
CHECKIN_ACCOUNTS = 200
_CHECKIN_SETUP = r"""
import asyncio, json, random, sys
from khaibao import db, people, sessions, venues
from khaibao.settings import Settings

async def main(count):
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        venue = await venues.create(venues.parse_venue(
            {"name": "Chợ Đo Tải", "kind": "market"}), settings)
        made = []
        for number in range(count):
            account = await people.account_for_phone(f"+84906{number:06d}")
            data = people.parse_person({
                "full_name": "Trần Thị Bình", "id_type": "cccd",
                "id_number": f"046190{random.randrange(10**6):06d}",
                "birth_year": "1990", "sex": "female", "nationality": "VN", "region": "",
                "address_detail": "", "bhyt": ""})
            async with db.write_transaction():
                person_id = await people.create_person(account, data, settings,
                                                       is_owner=True, channel="self")
            made.append([await sessions.start("citizen", account), person_id])
        print(json.dumps({"code": venue.code(settings.secret_key), "accounts": made}))
    finally:
        await db.disconnect()

asyncio.run(main(int(sys.argv[1])))
"""


def prepare_checkin(env: dict[str, str], directory: Path, base: str) -> tuple[str, Path]:
    """A wrk script POSTing the citizen check-in form of a venue poster (/v/{code}/check-in)
    as many phones, each checking its person in and then out again in turn, so every
    check-in is a new stay (an insert), never the 30-minute repeat. Each request carries
    that phone's session cookie and the CSRF cookie, header and body field."""
    import json
    from http.cookies import SimpleCookie

    made = json.loads(subprocess.run(
        [sys.executable, "-c", _CHECKIN_SETUP, str(CHECKIN_ACCOUNTS)], env=env, cwd=directory,
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    first = made["accounts"][0][0]
    request = urllib.request.Request(f"{base}/v/{made['code']}",
                                     headers={"Cookie": f"khaibao_session={first}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        page = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    accounts = ",\n".join(f'  {{"khaibao_session={session}; csrftoken='
                          f'{cookies["csrftoken"].value}", "{person}"}}'
                          for session, person in made["accounts"])
    script = directory / "checkin.lua"
    script.write_text(
        f"local accounts = {{\n{accounts}\n}}\n"
        f'local paths = {{"/v/{made["code"]}/check-in", "/v/{made["code"]}/check-out"}}\n'
        "local threads = 0\n"
        # wrk runs 2 threads: each cycles through its own half of the phones (in, then out)
        "function setup(thread) thread:set(\"half\", threads); threads = threads + 1 end\n"
        "local i = 0\n"
        "function request()\n"
        "  i = i + 1\n"
        "  local m = math.floor(#accounts / 2)\n"
        "  local a = accounts[2 * (i % m) + (half or 0) + 1]\n"
        "  local path = paths[(math.floor(i / m) % 2) + 1]\n"
        "  return wrk.format(\"POST\", path, {\n"
        "    [\"Content-Type\"] = \"application/x-www-form-urlencoded\",\n"
        f"    [\"x-csrftoken\"] = \"{csrf}\", [\"Cookie\"] = a[1]}},\n"
        f"    \"_csrf_token={csrf}&persons=\" .. a[2])\n"
        "end\n"
    )
    return f"/v/{made['code']}/check-in", script


# Scenarios with their own data and wrk script: (name, prepare(env, directory, base) →
# (path, script)); each runs after ENDPOINTS and is compared to the same ceiling.
SCENARIOS = [
    ("venue check-in /v/…", prepare_checkin),
]


if __name__ == "__main__":
    sys.exit(main())
