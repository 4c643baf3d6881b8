"""Several server processes behave as one: OTP limits across two processes on one SQLite file;
and two processes on one PostgreSQL database (as behind a load balancer) through a whole
citizen journey, both passkey ceremonies (each challenge issued by one process and verified
by the other) and the officer lookup cap."""

import json
import random
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.helpers import random_mobile


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("two-processes")
    first = start_server(directory)
    second = start_server(directory)  # same database file, another process and port
    yield first, second
    stop_server(first)
    stop_server(second)


class Browser:
    """A cookie jar and CSRF token for one server, as a browser would keep them."""

    def __init__(self, server):
        self.server = server
        self.client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=10)
        page = self.client.get("/kbyt")
        self.token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)

    def post(self, path, data):
        return self.client.post(path, data={**data, "_csrf_token": self.token})


def random_phone():
    return random_mobile()


def test_wrong_code_tries_are_counted_across_processes(two_servers):
    first, second = Browser(two_servers[0]), Browser(two_servers[1])
    phone = random_phone()
    sent = first.post("/xac-thuc/gui-ma", {"phone": phone, "next": "/qr"})
    assert sent.status_code == 200
    # One browser on two processes: the code's cookie (cookies are not bound to ports) goes
    # to both; without it no try would count (the code is bound to the browser that asked).
    for cookie in first.client.cookies.jar:
        if cookie.name == "khaibao_otp":
            second.client.cookies.jar.set_cookie(cookie)
    e164 = "+84" + phone[1:]
    code = two_servers[0].last_otp(e164)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = []
    for attempt in range(6):
        browser = first if attempt % 2 == 0 else second
        answers.append(browser.post("/xac-thuc/ma", {"phone": e164, "code": wrong, "next": "/qr"}))
    assert [a.status_code for a in answers] == [422] * 6
    assert "còn 4 lần" in answers[0].text
    assert "còn 1 lần" in answers[3].text
    # the fifth wrong try burned the code: even the right one is refused now, on either server
    right = second.post("/xac-thuc/ma", {"phone": e164, "code": code, "next": "/qr"})
    assert right.status_code == 422
    assert "Gửi lại mã" in right.text


def test_sends_per_client_ip_are_capped_across_processes(two_servers):
    first, second = Browser(two_servers[0]), Browser(two_servers[1])
    statuses = []
    for attempt in range(31):
        browser = first if attempt % 2 == 0 else second
        statuses.append(browser.post("/xac-thuc/gui-ma",
                                     {"phone": random_phone(), "next": "/qr"}).status_code)
    assert statuses.count(200) <= 30
    assert statuses[-1] == 422


# --- two app servers on one PostgreSQL, as behind a load balancer -----------------------------

PUBLIC_HOST = "localhost:8000"  # the balancer's address, which both servers call their own
PUBLIC_URL = f"http://{PUBLIC_HOST}"
LOOKUPS_PER_MINUTE = 5


@pytest.fixture(scope="module")
def two_pg_servers(tmp_path_factory):
    """Two ``khaibao serve`` processes on different ports sharing a fresh PostgreSQL database
    and one public address (WebAuthn's origin), with a small officer lookup cap."""
    import asyncio
    import concurrent.futures
    import os

    from tests.conftest import _create_postgres_database, _drop_postgres_database

    base = os.environ.get("KHAIBAO_TEST_DATABASE_URL", "").strip() or (
        "postgresql://postgres@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        base = "postgresql://postgres@127.0.0.1:5432/test"
    def run(coroutine):
        # In its own thread: Playwright's sync API keeps an event loop running in this one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()

    try:
        url = run(_create_postgres_database(base))
    except OSError as error:  # pragma: no cover - no PostgreSQL on this machine
        pytest.skip(f"PostgreSQL not reachable: {error}")
    directory = tmp_path_factory.mktemp("two-pg-processes")
    env = {"KHAIBAO_DATABASE_URL": url, "KHAIBAO_BASE_URL": PUBLIC_URL,
           "KHAIBAO_OFFICER_LOOKUPS_PER_MINUTE": str(LOOKUPS_PER_MINUTE)}
    first = _start_behind_balancer(directory, env)
    second = _start_behind_balancer(directory, env)  # same database and secret, another port
    yield first, second
    stop_server(first)
    stop_server(second)
    run(_drop_postgres_database(base, url))


def _start_behind_balancer(directory, extra_env):
    """``start_server`` for a server that only answers its public Host (localhost:8000), as
    a balancer preserving the Host header sends it."""
    import os
    import subprocess
    import time

    from tests.e2e.conftest import KHAIBAO, LiveServer, free_port

    port = free_port()
    outbox = directory / "sms-outbox.jsonl"
    env = {**os.environ, "KHAIBAO_SMS_BACKEND": f"file:{outbox}", **extra_env}
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    for command in (["migrate"], ["import-regions", "--vietnam"]):
        subprocess.run([KHAIBAO, *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=120)
    log = (directory / f"server-{port}.log").open("w")
    process = subprocess.Popen([KHAIBAO, "serve", "--port", str(port)], env=env,
                               cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", headers={"Host": PUBLIC_HOST}).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("server did not start:\n" + (directory / f"server-{port}.log")
                           .read_text())
    return LiveServer(url=url, directory=directory, outbox=outbox, env=env, process=process)


class Balancer:
    """One browser (one cookie jar: cookies are not bound to ports) whose requests go to the
    two servers in turn, as a round-robin load balancer would send them."""

    def __init__(self, servers):
        self.servers = servers
        self.turn = 0
        self.client = httpx.Client(follow_redirects=False, timeout=15,
                                   headers={"Origin": PUBLIC_URL, "Host": PUBLIC_HOST})
        self.seen: list[str] = []

    def _next(self) -> str:
        server = self.servers[self.turn % len(self.servers)]
        self.turn += 1
        self.seen.append(server.url)
        return server.url

    def get(self, path, **kwargs):
        return self.client.get(self._next() + path, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(self._next() + path, **kwargs)


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_citizen_journey_across_two_processes(two_pg_servers):
    first, _second = two_pg_servers
    browser = Balancer(two_pg_servers)
    phone = random_phone()
    e164 = "+84" + phone[1:]
    token = _csrf(browser.get("/kbyt").text)
    sent = browser.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                  "_csrf_token": token})
    assert sent.status_code == 200, sent.text
    verified = browser.post("/xac-thuc/ma", data={
        "phone": e164, "code": first.last_otp(e164), "next": "/kbyt/khai-bao",
        "_csrf_token": token})
    assert verified.status_code == 303, verified.text  # the OTP sent by one, checked by the other
    form = browser.get("/kbyt/khai-bao")
    assert form.status_code == 200  # the session made by one is known to the other
    submitted = browser.post("/kbyt/khai-bao", data={
        "_csrf_token": _csrf(form.text), "client_ref": f"two-{phone}", "pledge": "on",
        "places_visited": "Huế", "p0_full_name": "Lê Thị Hai Máy", "p0_id_type": "cmnd",
        "p0_id_number": "".join(random.choices("0123456789", k=9)), "p0_birth_year": "1985",
        "p0_sex": "female", "p0_nationality": "VN", "p0_address_detail": "", "p0_bhyt": ""})
    assert submitted.status_code == 303, submitted.text
    assert submitted.headers["location"].startswith("/qr")
    mine = browser.get(submitted.headers["location"])
    assert mine.status_code == 200
    assert "Lê Thị Hai Máy" in mine.text and "<svg" in mine.text
    assert len(set(browser.seen)) == 2


def _passkey_json(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_officer_passkey_ceremonies_and_lookup_cap_across_processes(two_pg_servers):
    from tests.soft_authenticator import SoftAuthenticator

    first, _second = two_pg_servers
    link = first.khaibao("create-admin", "--name", "Quản Trị Hai Máy").stdout.strip()
    path = urlsplit(link).path
    browser = Balancer(two_pg_servers)
    device = SoftAuthenticator(origin=PUBLIC_URL, rp_id="localhost")
    # enrollment: options (the registration challenge) from one server, verified by the other
    page = browser.get(path)
    assert page.status_code == 200
    headers = {"x-csrftoken": _csrf(page.text), "content-type": "application/json"}
    options = _passkey_json(browser.post(path + "/tuy-chon", headers=headers))
    enrolled = browser.post(path + "/xac-minh", headers=headers, content=json.dumps(
        {**device.create(options), "name": "Máy công vụ"}))
    assert enrolled.status_code in (200, 303), enrolled.text
    # sign-in: the authentication challenge issued by one server, answered to the other
    browser.client.cookies.clear()
    page = browser.get("/can-bo/dang-nhap")
    headers = {"x-csrftoken": _csrf(page.text), "content-type": "application/json"}
    options = _passkey_json(browser.post("/can-bo/dang-nhap/tuy-chon", headers=headers))
    signed_in = browser.post("/can-bo/dang-nhap/xac-minh", headers=headers,
                             content=json.dumps(device.get(options)))
    assert signed_in.status_code in (200, 303), signed_in.text
    pages = [browser.get("/kiemtra/") for _ in range(2)]
    assert [p.status_code for p in pages] == [200, 200]  # the officer session on both
    # the lookup cap counts every lookup, whichever server answers it
    token = _csrf(pages[0].text)
    answers = [browser.post("/kiemtra/tra-cuu", data={"q": "001099012345", "_csrf_token": token},
                            headers={"HX-Request": "true"})
               for _ in range(LOOKUPS_PER_MINUTE + 1)]
    assert [a.status_code for a in answers] == [200] * LOOKUPS_PER_MINUTE + [429]
    assert "quá nhiều lần" in answers[-1].text


def _listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def test_workers_listen_on_their_own_sockets_and_stop_together(tmp_path):
    """``khaibao serve --workers 2``: each worker has its own socket on the port (the kernel
    spreads connections between them; on one shared socket one worker could hold most of
    them), and SIGTERM to the server stops every worker."""
    server = start_server(tmp_path, args=("--workers", "2"))
    port = urlsplit(server.url).port
    try:
        deadline = time.monotonic() + 20  # /healthz answered: the first worker is up
        while len(_listening_sockets(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_listening_sockets(port)) == 2
        for _ in range(10):  # new connections, all answered
            assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
    assert _listening_sockets(port) == set()
