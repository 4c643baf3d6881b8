"""Faults against a real ``khaibao serve``: kill -9 under write load, SIGTERM during requests,
an SMS gateway that is down or slow, and (on PostgreSQL) the database going away and coming
back. Every write that got a success answer must survive; nothing is half-written."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import KHAIBAO, LiveServer, free_port, start_server, stop_server
from tests.e2e.load_helpers import WriteLoad, declaration, signed_in_client
from tests.e2e.test_two_processes import _listening_sockets
from tests.helpers import random_mobile

PG_URL = os.environ.get("KHAIBAO_TEST_DATABASE_URL", "")
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL.startswith("postgres"), reason="KHAIBAO_TEST_DATABASE_URL is not PostgreSQL"))]


# --- helpers -----------------------------------------------------------------------------------

def _pg(sql: str, url: str | None = None):
    import asyncpg

    async def run():
        connection = await asyncpg.connect(url or PG_URL)
        try:
            return await connection.fetch(sql)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture(params=ENGINES)
def engine_env(request):
    if request.param == "sqlite":
        yield {}
        return
    name = f"khaibao_faults_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    _pg(f'CREATE DATABASE "{name}"')
    url = re.sub(r"/[^/]*$", f"/{name}", PG_URL)
    yield {"KHAIBAO_DATABASE_URL": url}
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(server: LiveServer, sql: str) -> list[tuple]:
    url = server.env["KHAIBAO_DATABASE_URL"]
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()
    return [tuple(r.values()) for r in _pg(sql, url)]


def _stored(server: LiveServer) -> dict[str, int]:
    """client_ref of each submitted form → how many person rows it has."""
    counts: dict[str, int] = {}
    for (ref,) in _rows(server, "SELECT client_ref FROM health_declaration"):
        form_ref = ref.rsplit(":", 1)[0]
        counts[form_ref] = counts.get(form_ref, 0) + 1
    return counts


def _integrity_ok(server: LiveServer) -> None:
    if server.env["KHAIBAO_DATABASE_URL"].startswith("sqlite"):
        assert _rows(server, "PRAGMA integrity_check") == [("ok",)]
        assert _rows(server, "PRAGMA foreign_key_check") == []
    else:  # every declaration still points at an existing person
        assert _rows(server, "SELECT count(*) FROM health_declaration d LEFT JOIN person p "
                             "ON p.id = d.person WHERE p.id IS NULL") == [(0,)]


def _wait_healthy(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def _restart(server: LiveServer) -> LiveServer:
    port = server.url.rsplit(":", 1)[1]
    log = (server.directory / "server-restarted.log").open("w")
    process = subprocess.Popen([KHAIBAO, "serve", "--port", port], env=server.env,
                               cwd=server.directory, stdout=log, stderr=subprocess.STDOUT)
    _wait_healthy(server.url)
    server.process = process
    return server


def _wait_acked(load: WriteLoad, n: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while len(load.acked) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(load.acked) >= n, load.failed[:5]


# --- kill -9 -----------------------------------------------------------------------------------

def test_kill_9_under_write_load_loses_no_acknowledged_write(tmp_path, engine_env):
    server = start_server(tmp_path, engine_env)
    try:
        loads = [WriteLoad(signed_in_client(server), persons=2).start() for _ in range(3)]
        for load in loads:
            _wait_acked(load, 8)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        for load in loads:
            load.stop()
        acked = [ref for load in loads for ref in load.acked]
        _restart(server)
        _integrity_ok(server)
        stored = _stored(server)
        missing = [ref for ref in acked if ref not in stored]
        assert missing == [], f"{len(missing)} acknowledged writes lost"
        assert all(count == 2 for count in stored.values()), "a half-written declaration"
        # and the restarted server takes writes again
        after = signed_in_client(server)
        from tests.e2e.load_helpers import declaration

        assert declaration(after, "after-restart-0001").status_code == 303
    finally:
        stop_server(server)


# --- SIGTERM -----------------------------------------------------------------------------------

def test_sigterm_lets_in_flight_requests_finish(tmp_path, engine_env):
    server = start_server(tmp_path, engine_env)
    try:
        loads = [WriteLoad(signed_in_client(server), persons=2).start() for _ in range(3)]
        for load in loads:
            _wait_acked(load, 5)
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=20)  # within hypercorn's graceful timeout
        for load in loads:
            load.stop()
        assert code == 0, (server.directory / "server.log").read_text()[-2000:]
        cut = [(load, f.split(":", 1)[0]) for load in loads for f in load.failed
               if "RemoteProtocolError" in f or "ReadError" in f]
        acked = [ref for load in loads for ref in load.acked]
        _restart(server)
        _integrity_ok(server)
        stored = _stored(server)
        assert [ref for ref in acked if ref not in stored] == []
        # A request that reached the server in the very moment it closed its keep-alive
        # connections can be saved while its answer is lost (hypercorn closes the socket).
        # The client's resend with the same client_ref must then be the same declaration.
        for load, ref in cut:
            if ref in stored:
                assert declaration(load.client, ref, persons=2).status_code == 303
        assert _stored(server) == stored  # nothing doubled by the resends
        assert all(count == 2 for count in stored.values()), "a half-written declaration"
    finally:
        stop_server(server)


def test_sigterm_to_the_process_group_drains_every_worker(tmp_path, engine_env):
    """systemd and Procfile platforms send SIGTERM to every process of the service at once.
    Each of the 2 workers must then drain as the parent does: every request sent gets its
    answer (a request never sent — connection refused once all have stopped — is fine), every
    answered write is stored, and the server exits 0 within the grace period."""
    server = start_server(tmp_path, {**engine_env, "KHAIBAO_SHUTDOWN_GRACE_SECONDS": "15"},
                          args=("--workers", "2"), own_group=True)
    try:
        deadline = time.monotonic() + 20  # both workers listen
        port = int(server.url.rsplit(":", 1)[1])
        while len(_listening_sockets(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        # each phone stays under its hourly declaration cap (30): every answer must be a 303
        loads = [WriteLoad(signed_in_client(server), persons=2, limit=28).start()
                 for _ in range(6)]
        for load in loads:
            _wait_acked(load, 3)
        os.killpg(server.process.pid, signal.SIGTERM)
        code = server.process.wait(timeout=30)
        for load in loads:
            load.stop()
        log = (server.directory / "server.log").read_text()
        assert code == 0, log[-2000:]
        unanswered = [f for load in loads for f in load.failed if "ConnectError" not in f]
        assert unanswered == [], (unanswered[:10], log[-2000:])
        acked = [ref for load in loads for ref in load.acked]
        _restart(server)
        _integrity_ok(server)
        stored = _stored(server)
        assert [ref for ref in acked if ref not in stored] == []
        assert all(count == 2 for count in stored.values()), "a half-written declaration"
    finally:
        stop_server(server)


class _TwoSecondGateway(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", "0")))
        time.sleep(2.0)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args):
        pass


def test_sigterm_waits_for_a_slow_request_in_flight(tmp_path):
    """A request that takes 2 s (the SMS gateway is slow) is in flight when SIGTERM arrives:
    it still gets its answer, and its code is stored whole (active, not left pending)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TwoSecondGateway)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = start_server(tmp_path, {
        "KHAIBAO_SMS_BACKEND": "http", "KHAIBAO_SMS_HTTP_TOKEN": "test-token",
        "KHAIBAO_SMS_HTTP_URL": f"http://127.0.0.1:{httpd.server_address[1]}/send"})
    try:
        client = httpx.Client(base_url=server.url, timeout=30)
        token = re.search(r'name="_csrf_token" value="([^"]+)"',
                          client.get("/kbyt").text).group(1)
        phone = random_mobile()
        answers: list = []
        request = threading.Thread(target=lambda: answers.append(client.post(
            "/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr", "_csrf_token": token})))
        request.start()
        time.sleep(0.7)  # the request is now waiting for the gateway
        server.process.send_signal(signal.SIGTERM)
        request.join(timeout=20)
        assert server.process.wait(timeout=20) == 0
        assert answers and answers[0].status_code == 200, answers
        states = _rows(server, "SELECT state FROM otp_code WHERE phone = "
                               f"'+84{phone[1:]}'")
        assert states == [("active",)]
    finally:
        stop_server(server)
        httpd.shutdown()


# --- SMS gateway down or slow -------------------------------------------------------------------

class _SlowGateway(BaseHTTPRequestHandler):
    delay = 30.0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        time.sleep(self.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def slow_gateway():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowGateway)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/send"
    httpd.shutdown()


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/send"  # nothing listens there


@pytest.mark.parametrize("gateway", ["down", "slow"])
def test_sms_gateway_down_or_slow(tmp_path, gateway, request):
    url = _closed_port_url() if gateway == "down" else request.getfixturevalue("slow_gateway")
    server = start_server(tmp_path, {"KHAIBAO_SMS_BACKEND": "http", "KHAIBAO_SMS_HTTP_URL": url,
                                     "KHAIBAO_SMS_HTTP_TOKEN": "test-token"})
    try:
        client = httpx.Client(base_url=server.url, timeout=30)
        token = re.search(r'name="_csrf_token" value="([^"]+)"',
                          client.get("/kbyt").text).group(1)
        phone = random_mobile()
        e164 = "+84" + phone[1:]
        for attempt in range(2):
            began = time.monotonic()
            answer = client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                            "_csrf_token": token})
            took = time.monotonic() - began
            assert took < 10, f"waited {took:.1f} s for the gateway"
            assert answer.status_code in (422, 503), answer.status_code
            # the same clear message both times: not "wait 60 s", since nothing was sent
            assert "Không gửi được tin nhắn" in answer.text, attempt
        assert _rows(server, f"SELECT count(*) FROM otp_code WHERE phone = '{e164}'") == [(0,)]
        counted = _rows(server, "SELECT \"count\" FROM rate_counter WHERE \"key\" = "
                                f"'otp:phone:{e164}'")
        assert counted in ([], [(0,)])
    finally:
        stop_server(server)


# --- the database goes away and comes back (PostgreSQL through a local TCP proxy) -------------

class _Proxy:
    """A TCP forwarder on 127.0.0.1 that can be cut (every connection dropped) and restored."""

    def __init__(self, target_port: int):
        self.target_port, self.port = target_port, free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                inbound, _ = listener.accept()
            except OSError:
                return
            outbound = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                if self._listener is not listener:  # cut meanwhile: this one is cut too
                    inbound.close()
                    outbound.close()
                    return
                self._sockets += [inbound, outbound]
            for a, b in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._sockets.clear()


@pytest.mark.skipif(not PG_URL.startswith("postgres"),
                    reason="needs PostgreSQL (KHAIBAO_TEST_DATABASE_URL)")
def test_database_unavailable_then_back_without_restart(tmp_path):
    name = f"khaibao_down_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    _pg(f'CREATE DATABASE "{name}"')
    target = int(re.search(r":(\d+)/", PG_URL).group(1)) if re.search(r":(\d+)/", PG_URL) else 5432
    proxy = _Proxy(target)
    proxy.start()
    url = re.sub(r"@[^/]+/[^/]*$", f"@127.0.0.1:{proxy.port}/{name}", PG_URL)
    server = start_server(tmp_path, {"KHAIBAO_DATABASE_URL": url})
    try:
        client = httpx.Client(base_url=server.url, timeout=15)
        assert client.get("/healthz").status_code == 200
        token = re.search(r'name="_csrf_token" value="([^"]+)"',
                          client.get("/kbyt").text).group(1)
        proxy.cut()
        began = time.monotonic()
        health = client.get("/healthz")
        assert health.status_code == 503
        asked = client.post("/xac-thuc/gui-ma", data={  # needs the database (rate limits)
            "phone": random_mobile(), "next": "/qr", "_csrf_token": token})
        assert time.monotonic() - began < 20
        assert asked.status_code == 503, asked.status_code
        assert "Dữ liệu đã lưu không bị mất" in asked.text
        assert client.get("/ping").status_code == 200  # liveness is not readiness
        proxy.start()  # the database is back: no restart of the server
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and client.get("/healthz").status_code != 200:
            time.sleep(0.5)
        assert client.get("/healthz").status_code == 200
        citizen = signed_in_client(server)
        from tests.e2e.load_helpers import declaration

        assert declaration(citizen, "after-outage-00001").status_code == 303
    finally:
        stop_server(server)
        proxy.cut()
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_server_log_holds_no_personal_data(tmp_path):
    """The server's own output (error log and access log) during sign-in and declarations."""
    server = start_server(tmp_path, {"KHAIBAO_ACCESS_LOG": "-", "KHAIBAO_LOG_JSON": "1"})
    try:
        citizen = signed_in_client(server)
        load = WriteLoad(citizen, limit=5).start()
        _wait_acked(load, 5)
        load.stop()
        phones = {m["to"] for m in server.sms_messages()}
        codes = {re.search(r"\d{6}", m["text"]).group(0) for m in server.sms_messages()}
    finally:
        stop_server(server)
    text = Path(server.directory / "server.log").read_text()
    assert text.strip(), "the server wrote no log: the test would prove nothing"
    for secret in phones | {"0" + p[3:] for p in phones} | codes:
        assert secret not in text, secret


# --- configuration failures: one line, a non-zero exit, nothing left running ------------------

HYPERCORN = str(Path(KHAIBAO).parent / "hypercorn")


def _refused(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """Run a start-up that must fail; (exit status, its stderr lines). The timeout proves
    it ends by itself: a thread left running would keep the process alive."""
    began = time.monotonic()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - began < 30, "the failed start took too long to end"
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, lines


def _config_env(tmp_path: Path, engine_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "KHAIBAO_SMS_BACKEND": "console", **engine_env, **extra}
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    return env


def _starts(env: dict[str, str], cwd: Path) -> list[list[str]]:
    """The ways to start a server: the project's command and hypercorn on the ASGI entry."""
    port = str(free_port())
    return [[KHAIBAO, "serve", "--port", port],
            [HYPERCORN, "khaibao.asgi:app", "--workers", "0", "--bind", f"127.0.0.1:{port}"]]


def _one_line(code: int, lines: list[str], *words: str) -> None:
    assert code != 0, lines
    assert len(lines) == 1 and lines[0].startswith("khaibao: "), lines
    for word in words:
        assert word in lines[0], lines


def test_another_secret_key_refuses_to_start_with_one_line(tmp_path, engine_env):
    first_key, other_key = "k" * 40, "o" * 40
    env = _config_env(tmp_path, engine_env, KHAIBAO_SECRET_KEY=first_key)
    subprocess.run([KHAIBAO, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = start_server(tmp_path, {**engine_env, "KHAIBAO_SECRET_KEY": first_key})
    stop_server(server)  # the first start stored the key's fingerprint
    other = {**server.env, "KHAIBAO_SECRET_KEY": other_key}
    for command in _starts(other, tmp_path):
        code, lines = _refused(command, other, tmp_path)
        _one_line(code, lines, "KHAIBAO_SECRET_KEY", "QR", "ID")
    _restart(server)  # the original key still starts
    stop_server(server)


def test_an_unmigrated_database_refuses_to_start_with_one_line(tmp_path, engine_env):
    env = _config_env(tmp_path, engine_env)
    for command in _starts(env, tmp_path):
        code, lines = _refused(command, env, tmp_path)
        _one_line(code, lines, "khaibao migrate")
    # hypercorn's own worker processes (the default --workers 1): one line as well, and the
    # process ends (hypercorn 0.18's parent then exits 0 whatever its worker said)
    _, lines = _refused([HYPERCORN, "khaibao.asgi:app", "--bind", f"127.0.0.1:{free_port()}"],
                        env, tmp_path)
    assert len([line for line in lines if "Traceback" in line]) == 0, lines
    assert [line for line in lines if line.startswith("khaibao: ")], lines


def test_an_unusable_database_path_refuses_to_start_with_one_line(tmp_path):
    directory = tmp_path / "a-directory.sqlite3"
    directory.mkdir()
    env = _config_env(tmp_path, {}, KHAIBAO_DATABASE_URL=f"sqlite:///{directory}",
                      KHAIBAO_SECRET_KEY="k" * 40)
    for command in _starts(env, tmp_path):
        code, lines = _refused(command, env, tmp_path)
        _one_line(code, lines, str(directory))
    # no key given and none can be written beside the database (its "directory" is a file)
    (tmp_path / "a-file").write_text("")
    env = _config_env(tmp_path, {}, KHAIBAO_DATABASE_URL=f"sqlite:///{tmp_path}/a-file/x.db")
    for command in _starts(env, tmp_path):
        code, lines = _refused(command, env, tmp_path)
        _one_line(code, lines, "KHAIBAO_SECRET_KEY")


def test_postgresql_unreachable_refuses_to_start_with_one_line(tmp_path):
    env = _config_env(tmp_path, {}, KHAIBAO_SECRET_KEY="k" * 40, KHAIBAO_DATABASE_URL=(
        f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"))
    for command in _starts(env, tmp_path):
        code, lines = _refused(command, env, tmp_path)
        _one_line(code, lines, "unavailable" if command[0] == KHAIBAO else "PostgreSQL")


def _can_mount_read_only() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && "
                            "mount -o remount,ro,bind /tmp"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs unshare -m and mount (root)")
def test_a_database_on_a_read_only_filesystem_refuses_to_start_with_one_line(tmp_path):
    place = tmp_path / "ro"
    place.mkdir()
    env = _config_env(tmp_path, {}, KHAIBAO_DATABASE_URL=f"sqlite:///{place / 'db.sqlite3'}")
    subprocess.run([KHAIBAO, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    for command in _starts(env, tmp_path):
        shell = (f"mount --bind {place} {place} && mount -o remount,ro,bind {place} && "
                 + " ".join(command))
        code, lines = _refused(["unshare", "-m", "sh", "-c", shell], env, tmp_path)
        _one_line(code, lines, "db.sqlite3")
