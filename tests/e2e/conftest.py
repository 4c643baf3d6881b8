"""Browser tests: a real ``khaibao serve`` process and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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


def start_server(directory: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    port = free_port()
    outbox = directory / "sms-outbox.jsonl"
    env = {
        **os.environ,
        "KHAIBAO_DATABASE_URL": f"sqlite:///{directory / 'e2e.sqlite3'}",
        "KHAIBAO_BASE_URL": f"http://localhost:{port}",
        "KHAIBAO_SMS_BACKEND": f"file:{outbox}",
        **(extra_env or {}),
    }
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    subprocess.run([KHAIBAO, "migrate"], env=env, cwd=directory, check=True,
                   capture_output=True, timeout=120)
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [KHAIBAO, "serve", "--port", str(port)], env=env, cwd=directory,
        stdout=log, stderr=subprocess.STDOUT,
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


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda message: page.csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()


@pytest.fixture
def persistent_context(playwright_instance, live_server, tmp_path):
    """A non-incognito profile: needed for installability checks and service workers."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        headless=True, base_url=live_server.url, locale="vi-VN",
    )
    yield context
    context.close()
