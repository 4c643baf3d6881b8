"""Browser tests: a real ``khaibao serve`` process and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.db_setup import run_script

CHROMIUM = os.environ.get("KHAIBAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
KHAIBAO = str(Path(sys.executable).parent / "khaibao")


def camera_video(directory: Path, name: str, text: str) -> Path:
    """A .y4m file showing a QR of ``text``, for Chromium's fake camera (GUIDE §5)."""
    import segno

    png = directory / f"{name}.png"
    segno.make_qr(text, error="m").save(str(png), scale=8, border=4)
    y4m = picture_video(png, directory / f"{name}.y4m")
    # the picture itself must be readable, or a test using it proves nothing
    assert decode_qr(png) == text
    return y4m


def picture_video(png: Path, y4m: Path) -> Path:
    """A 3-second .y4m of a still picture (640×480, white borders) for the fake camera."""
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-i", str(png), "-vf",
         "scale=640:480:force_original_aspect_ratio=decrease,"
         "pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
         "-t", "3", "-r", "10", str(y4m)],
        check=True,
    )
    return y4m


def camera_browser(playwright_instance, video: Path):
    """A Chromium whose camera shows ``video`` and needs no permission prompt."""
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
    )


def run_setup(live_server, script: str, *args: str):
    """Runs a setup ``script`` (see tests/db_setup.py) against the live server's database."""
    return run_script(script, *args, env=live_server.env, cwd=live_server.directory)


def add_officer_cookie(context, live_server, session: str) -> None:
    """Signs the browser context in as the officer whose raw session is ``session``."""
    context.add_cookies([{"name": "khaibao_officer", "value": session,
                          "url": live_server.url}])


def decode_qr(png: Path) -> str:
    """The text of the QR code in a PNG, read by zbar (Debian's zbar-tools)."""
    result = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True,
                            check=True)
    return result.stdout.decode("utf-8").rstrip("\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    directory: Path
    outbox: Path
    env: dict[str, str]
    process: subprocess.Popen

    def sms_messages(self, to: str | None = None) -> list[dict]:
        if not self.outbox.exists():
            return []
        lines = [json.loads(line) for line in self.outbox.read_text().splitlines() if line]
        return [m for m in lines if to is None or m["to"] == to]

    def last_otp(self, to: str) -> str:
        text = self.sms_messages(to)[-1]["text"]
        return re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)

    def khaibao(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([KHAIBAO, *args], env=self.env, cwd=self.directory,
                              capture_output=True, text=True, timeout=120, check=True)


def start_server(directory: Path, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), *, own_group: bool = False) -> LiveServer:
    """``own_group``: the server leads its own process group (a test can signal the group,
    as systemd does, without signalling itself)."""
    port = free_port()
    outbox = directory / "sms-outbox.jsonl"
    env = {
        **os.environ,
        "KHAIBAO_DATABASE_URL": f"sqlite:///{directory / 'e2e.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://localhost:{port}",
        "KHAIBAO_SMS_BACKEND": f"file:{outbox}",
        # The write loads of the fault and backup tests send hundreds of declarations from
        # one phone; the per-phone cap has tests of its own (a server started with a low one).
        "KHAIBAO_DECLARATIONS_PER_HOUR": "100000",
        **(extra_env or {}),
    }
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    for command in (["migrate"], ["import-regions", "--vietnam"]):
        subprocess.run([KHAIBAO, *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=120)
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [KHAIBAO, "serve", "--port", str(port), *args], env=env, cwd=directory,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=own_group,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("server did not start:\n" + (directory / "server.log").read_text())
    return LiveServer(url=url, directory=directory, outbox=outbox, env=env, process=process)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("e2e-server"))
    yield server
    stop_server(server)


@pytest.fixture(autouse=True)
def each_test_is_another_address(request):
    """Every browser of the suite reaches the shared live server from 127.0.0.1, where real
    people come from addresses of their own: before each test the per-address OTP count
    (30 an hour) starts again, or the suite's thirty-first sign-in would be refused. The
    limit itself is tested in tests/http and tests/unit."""
    if "live_server" in request.fixturenames:
        server = request.getfixturevalue("live_server")
        database = server.directory / "e2e.sqlite3"
        if server.env["KHAIBAO_DATABASE_URL"].startswith("sqlite") and database.exists():
            with sqlite3.connect(database, timeout=10) as connection:
                connection.execute("DELETE FROM rate_counter WHERE key LIKE 'otp:ip:%'")
    yield


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def save_failure_screenshot(request, page) -> None:
    """A failed browser test leaves a full-page screenshot in test-artifacts/."""
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as error:  # the page may be gone; the test's own error matters
            print(f"no screenshot: {error}")


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()


def watch_csp(page):
    """Collects Content Security Policy violations in ``page.csp_errors``."""
    page.csp_errors = []
    page.on("console", lambda message: page.csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    return page


@pytest.fixture
def persistent_context(playwright_instance, live_server, tmp_path):
    """A non-incognito profile: needed for installability checks and service workers."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        headless=True, base_url=live_server.url, locale="vi-VN",
    )
    yield context
    context.close()


@pytest.fixture
def phone_page(browser, live_server, request):
    """A touch phone page (vi-VN) at the test module's ``PHONE`` viewport, with CSP errors
    watched and a screenshot kept when the test fails."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  viewport=request.module.PHONE, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()


PHONES = [{"width": 360, "height": 640}, {"width": 390, "height": 844}]


@pytest.fixture(params=PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def phone(browser, live_server, request):
    """A touch phone page (vi-VN), once at 360×640 and once at 390×844, with CSP errors
    watched and a screenshot kept when the test fails."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  viewport=request.param, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()
