"""Requests/s of endpoints against the plaintext ceiling on one hypercorn process.

    .venv/bin/python bench/http_ratio.py [--duration 10] [--connections 64] [--workers 1]
        [--database-url postgresql://postgres@127.0.0.1:5432/khaibao_bench | sqlite:///x]
        [--only scan,checkin] [--rounds 5] [--open-loop 1000]

Starts ``khaibao serve`` on a fresh SQLite file (or the given database: a PostgreSQL one, or
one filled by bench/gen_data.py), loads it with wrk (Debian package ``wrk``) and prints
requests/s, p50/p95/p99 and each endpoint's ratio to ``/ping`` (no database): the officer's
scan (POST a QR token → result fragment; 500 different persons in turn when the database
has them), a venue check-in, a health declaration submit, the citizen's /qr page (cached
SVG). ``--rounds N`` repeats the set on the same server and prints the median ratio and
its range (this machine's load moves from minute to minute). ``--open-loop RATE`` then
offers the scan at a fixed rate (bench/open_loop.py) and prints its latency percentiles.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.db_setup
from tests.db_setup import run_script  # noqa: E402

KHAIBAO = str(Path(sys.executable).parent / "khaibao")

# (name, method, path): the first is the ceiling. POST endpoints get a wrk Lua script made by
# prepare_check() (officer cookie, CSRF token, body).
ENDPOINTS = [
    ("plaintext /ping", "GET", "/ping"),
    ("one query /healthz", "GET", "/healthz"),
    ("check scan /kiemtra", "POST", "/kiemtra/tra-cuu"),
]
# Printed by every wrk script (wrk's own --latency output has no p95).
_DONE = """
function done(summary, latency, requests)
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("PCT %d %d\\n", p, latency:percentile(p)))
  end
end
"""

# Makes, in the server's database, a checkpoint officer with a session and a person with a
# health declaration: the session id and the person's QR token.
_CHECK_SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Cán bộ Đo Tải", "checkpoint")
    account, person_id = await make_person(
        settings, "Nguyễn Văn An", f"046090{random.randrange(10**6):06d}", declared=True)
    view = await people.get_person(account, person_id, settings)
    # persons of a filled database (bench/gen_data.py): scan 500 of them in turn
    from khaibao.tables import Person
    from khaibao.qr.tokens import TokenKind, make_token
    refs = [r["qr_reference"] for r in await Person.raw(
        "SELECT qr_reference FROM person ORDER BY random() LIMIT 500")]
    tokens = [make_token(TokenKind.PERSON, ref, settings.secret_key) for ref in refs]
    return {"session": session, "tokens": tokens or [view.token]}
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_of(url: str, cookie: str) -> tuple[str, str]:
    """The CSRF token of the page at ``url`` (requested with ``cookie``) and the value of the
    csrftoken cookie it sets."""
    from http.cookies import SimpleCookie

    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=5) as response:
        page = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
    return csrf, cookies["csrftoken"].value


def prepare_check(env: dict[str, str], directory: Path, base: str) -> Path:
    """A wrk script POSTing a person's QR token to the officer lookup, as htmx does: the
    officer's session cookie, the CSRF cookie and header, the token in the body."""
    made = run_script(_CHECK_SETUP, env=env, cwd=directory, timeout=None)
    officer_cookie = f"khaibao_officer={made['session']}"
    csrf, csrf_cookie = csrf_of(base + "/kiemtra/", officer_cookie)
    cookie = f"{officer_cookie}; csrftoken={csrf_cookie}"
    script = directory / "check.lua"
    tokens = ", ".join(f'"{token}"' for token in made["tokens"])
    script.write_text(
        f"local tokens = {{{tokens}}}\n"
        "local i = 0\n"
        "function request()\n"
        "  i = i + 1\n"
        '  return wrk.format("POST", nil, {\n'
        '    ["Content-Type"] = "application/x-www-form-urlencoded", ["HX-Request"] = "true",\n'
        f'    ["Cookie"] = "{cookie}", ["x-csrftoken"] = "{csrf}"}},\n'
        '    "q=" .. tokens[(i % #tokens) + 1])\n'
        "end\n" + _DONE
    )
    (directory / "check.json").write_text(json.dumps({
        "cookie": cookie, "csrf": csrf, "tokens": made["tokens"]}))
    return script


def wrk(url: str, duration: int, connections: int, script: Path | None = None
        ) -> dict[str, float]:
    if script is None:  # a plain GET, with the percentiles printer
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(_DONE)
    output = subprocess.run(
        ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{duration}s",
         "-s", str(script), url], capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = {f"p{m.group(1)}": int(m.group(2)) / 1000
                 for m in re.finditer(r"PCT (\d+) (\d+)", output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    return {"rps": rps, **latencies,
            "errors": float(errors.group(1)) if errors else 0.0,
            "socket_errors": socket_errors.group(0) if socket_errors else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--only", default="", help="comma-separated: scan, checkin, declare, "
                        "qr, healthz (the ceiling always runs)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the whole set N times on the same server; print each "
                        "round and the median ratio with its range")
    parser.add_argument("--open-loop", type=int, default=0, metavar="RATE",
                        help="then offer the scan at RATE requests/s (bench/open_loop.py)")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="record the server with py-spy (collapsed stacks) into FILE")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 1
    only = {o for o in args.only.split(",") if o}

    def wanted(name: str) -> bool:
        return name.startswith("plaintext") or not only or any(o in name for o in only)

    directory = Path(tempfile.mkdtemp(prefix="khaibao-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "KHAIBAO_DATABASE_URL": args.database_url or f"sqlite:///{directory / 'bench.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://localhost:{port}",
        "KHAIBAO_SMS_BACKEND": f"file:{directory / 'outbox.jsonl'}",
        # the load is one officer: lift the per-officer lookup cap out of the way
        "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE": "1000000000",
        # the load submits thousands of declarations from one phone: measure the submit, not
        # the per-phone cap's refusal
        "KHAIBAO_DECLARATIONS_PER_HOUR": "1000000000",
    }
    subprocess.run([KHAIBAO, "migrate"], env=env, cwd=directory, check=True,
                   capture_output=True)
    server = subprocess.Popen(
        [KHAIBAO, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://localhost:{port}"
    open_loop = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        check_script = prepare_check(env, directory, base)
        profiler = None
        if args.profile:
            # py-spy from the virtualenv, else from PATH; only samples holding the GIL (what
            # the event loop's thread can't do meanwhile), one stack root per thread
            py_spy = Path(sys.executable).parent / "py-spy"
            profiler = subprocess.Popen(
                [str(py_spy) if py_spy.exists() else "py-spy", "record", "--format", "raw",
                 "--gil", "--threads", "--rate", "200", "-o", args.profile,
                 "--pid", str(server.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk(base + "/ping", 2, args.connections)  # warm up
        runs = [(name, path, check_script if method == "POST" else None)
                for name, method, path in ENDPOINTS if wanted(name)]
        runs += [(name, *prepare(env, directory, base))
                 for name, prepare in SCENARIOS if wanted(name)]
        rounds = [[(name, wrk(base + path, args.duration, args.connections, script))
                   for name, path, script in runs] for _ in range(args.rounds)]
        if args.open_loop:
            open_loop = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("open_loop.py")),
                 "--url", base + "/kiemtra/tra-cuu", "--rate", str(args.open_loop),
                 "--duration", str(args.duration), "--check", str(directory / "check.json")],
                capture_output=True, text=True, check=True).stdout
    finally:
        if args.profile and profiler:
            profiler.send_signal(2)  # py-spy writes its file on SIGINT
            profiler.wait(timeout=60)
        server.terminate()
        try:
            server.wait(timeout=30)  # closing a big SQLite file checkpoints its WAL
        except subprocess.TimeoutExpired:
            server.kill()
    engine = "SQLite" if env["KHAIBAO_DATABASE_URL"].startswith("sqlite") else "PostgreSQL"
    print(f"\n{engine}, {args.workers} worker(s), {args.connections} connections, "
          f"{args.duration}s each, {os.cpu_count()} cores")
    for number, results in enumerate(rounds, 1):
        if len(rounds) > 1:
            print(f"round {number}")
        _print_round(results)
    if len(rounds) > 1:  # the machine's load moves: the median of the rounds, and its spread
        print(f"\nmedian of {len(rounds)} rounds (each ratio is to its own round's ceiling)")
        print(f"{'endpoint':24} {'req/s':>9} {'ratio':>6}  ratio range")
        for index, (name, _r) in enumerate(rounds[0]):
            rps = [results[index][1]["rps"] for results in rounds]
            ratios = sorted(results[index][1]["rps"] / results[0][1]["rps"]
                            for results in rounds)
            print(f"{name:24} {statistics.median(rps):9.0f} {statistics.median(ratios):6.2f}"
                  f"  {ratios[0]:.2f}–{ratios[-1]:.2f}")
    if open_loop:
        print(open_loop.strip())
    return 0


def _print_round(results: list[tuple[str, dict]]) -> None:
    ceiling = results[0][1]["rps"]
    print(f"{'endpoint':24} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    for name, r in results:
        print(f"{name:24} {r['rps']:9.0f} {r['p50']:8.2f} {r['p95']:8.2f} {r['p99']:8.2f} "
              f"{r['rps'] / ceiling:6.2f}"
              + (f"  ({r['errors']:.0f} non-2xx/3xx)" if r["errors"] else "")
              + (f"  ({r['socket_errors']})" if r["socket_errors"] else ""))


# Makes, in the server's database, a venue and CHECKIN_ACCOUNTS citizen phones, each with a
# declared person and a citizen session: the venue code and (session, person) pairs.
CHECKIN_ACCOUNTS = 200
_CHECKIN_SETUP = r"""
from khaibao.core import sessions
from khaibao.venues import venues

async def main(settings):
    count = int(sys.argv[1])
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Đo Tải", "kind": "market"}), settings)
    made = []
    for number in range(count):
        account, person_id = await make_person(
            settings, "Trần Thị Bình", f"046190{number:06d}",
            phone=f"+84906{number:06d}", sex="female")
        made.append([await sessions.start("citizen", account), person_id])
    return {"code": venue.code(settings.secret_key), "accounts": made}
"""


def prepare_checkin(env: dict[str, str], directory: Path, base: str) -> tuple[str, Path]:
    """A wrk script POSTing the citizen check-in form of a venue poster (/v/{code}/check-in)
    as many phones, each checking its person in and then out again in turn, so every
    check-in is a new stay (an insert), never the 30-minute repeat. Each request carries
    that phone's session cookie and the CSRF cookie, header and body field."""
    made = _citizens(env, directory, base)[0]
    first = made["accounts"][0][0]
    csrf, csrf_cookie = csrf_of(f"{base}/v/{made['code']}", f"khaibao_session={first}")
    accounts = ",\n".join(f'  {{"khaibao_session={session}; csrftoken='
                          f'{csrf_cookie}", "{person}"}}'
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
        "end\n" + _DONE
    )
    return f"/v/{made['code']}/check-in", script


def _citizens(env: dict[str, str], directory: Path, base: str) -> tuple[dict, str, str]:
    """The check-in setup's phones (made once per run) and a CSRF token and cookie."""
    cache = directory / "citizens.json"
    if not cache.exists():
        cache.write_text(json.dumps(run_script(
            _CHECKIN_SETUP, str(CHECKIN_ACCOUNTS), env=env, cwd=directory, timeout=None)))
    made = json.loads(cache.read_text())
    csrf, csrf_cookie = csrf_of(f"{base}/kbyt/khai-bao",
                                f"khaibao_session={made['accounts'][0][0]}")
    return made, csrf, csrf_cookie


def _rotating_script(path: Path, accounts: list, method: str, target: str, csrf: str,
                     cookie_csrf: str, body: str) -> Path:
    """A wrk script sending ``method target`` as each phone in turn (``body`` is Lua, with
    ``a[2]`` = the phone's person id and ``i`` a per-thread counter)."""
    rows = ",\n".join(f'  {{"khaibao_session={session}; csrftoken={cookie_csrf}", "{person}"}}'
                      for session, person in accounts)
    path.write_text(
        f"local accounts = {{\n{rows}\n}}\n"
        "local i = 0\n"
        # wrk's threads start with the same random state: each gets its own id from setup()
        "local threads = 0\n"
        "function setup(thread) threads = threads + 1; thread:set('tid', threads) end\n"
        "function init(args) me = tostring(tid) .. '-' .. tostring(os.time()) end\n"
        "function request()\n"
        "  i = i + 1\n"
        "  local a = accounts[(i % #accounts) + 1]\n"
        f'  return wrk.format("{method}", "{target}", {{\n'
        '    ["Content-Type"] = "application/x-www-form-urlencoded",\n'
        f'    ["x-csrftoken"] = "{csrf}", ["Cookie"] = a[1]}},\n'
        f"    {body})\n"
        "end\n" + _DONE)
    return path


def prepare_declare(env: dict[str, str], directory: Path, base: str) -> tuple[str, Path]:
    """The health declaration form submitted by many phones for their person: no symptoms,
    the pledge ticked, a new client_ref each time (so each is a new declaration)."""
    made, csrf, cookie_csrf = _citizens(env, directory, base)
    body = (f'"_csrf_token={csrf}&persons=" .. a[2] .. "&pledge=1&places_visited='
            '&client_ref=bench-" .. me .. "-" .. i')
    return "/kbyt/khai-bao", _rotating_script(directory / "declare.lua", made["accounts"],
                                              "POST", "/kbyt/khai-bao", csrf, cookie_csrf,
                                              body)


def prepare_qr(env: dict[str, str], directory: Path, base: str) -> tuple[str, Path]:
    """Mã QR của tôi (/qr) for many phones: their persons' QR as SVG (cached in process)."""
    made, csrf, cookie_csrf = _citizens(env, directory, base)
    return "/qr", _rotating_script(directory / "qr.lua", made["accounts"], "GET", "/qr",
                                   csrf, cookie_csrf, "nil")


# Scenarios with their own data and wrk script: (name, prepare(env, directory, base) →
# (path, script)); each runs after ENDPOINTS and is compared to the same ceiling.
SCENARIOS = [
    ("venue checkin /v/…", prepare_checkin),
    ("declare submit /kbyt", prepare_declare),
    ("qr page /qr", prepare_qr),
]


if __name__ == "__main__":
    sys.exit(main())
