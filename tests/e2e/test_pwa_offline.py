"""The installable, offline-first app in Chromium (persistent profile: service workers and
installability need a non-incognito context): installable, /qr opens in airplane mode until
sign-out, a declaration made offline is sent once when the network returns, a deploy shows
the update banner, and the first load of every citizen page is small."""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import KHAIBAO
from tests.e2e.test_citizen_journey import fill_person, sign_in

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[2] / "src"

# An officer session and a declared person, made in the live server's database.
SETUP = r"""
import asyncio, json, sys, uuid
from khaibao.citizens import person_input
from khaibao.core import db
from khaibao.citizens import declarations, people
from khaibao.officers import officers
from khaibao.citizens.declarations import HealthData
from khaibao.core.settings import Settings

async def main():
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        officer = await officers.create("Cán bộ Mạng Yếu", "checkpoint")
        session = await officers.start_session(officer.id)
        account = await people.account_for_phone("+84905" + sys.argv[2])
        data = person_input.parse_person({
            "full_name": "Hoàng Thị Mai", "id_type": "cccd", "id_number": sys.argv[1],
            "birth_year": "1990", "sex": "female", "nationality": "VN", "region": "",
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


def controlled(page) -> None:
    """Wait until the service worker controls the page (it claims clients on activate)."""
    page.evaluate("navigator.serviceWorker.ready")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def declare_online(page, live_server, name: str = "Võ Thị Hạnh") -> None:
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    fill_person(page.locator("#nguoi-moi-0"), name=name, id_type="Chứng minh nhân dân (CMND)",
                id_number=str(time.time_ns())[-9:], birth_year="1991", sex="Nữ")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))


def declarations_with(live_server, ref: str) -> int:
    with sqlite3.connect(live_server.directory / "e2e.sqlite3") as conn:
        return conn.execute("SELECT count(*) FROM health_declaration WHERE client_ref LIKE ?",
                            (f"{ref}:%",)).fetchone()[0]


def test_installable_with_a_clean_manifest(persistent_context):
    page = persistent_context.new_page()
    page.goto("/")
    controlled(page)
    cdp = persistent_context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_qr_opens_offline_until_sign_out(persistent_context, live_server):
    page = persistent_context.new_page()
    declare_online(page, live_server)
    controlled(page)
    page.goto("/qr")
    name = page.locator(".qr-name").first.inner_text()
    assert name == "Võ Thị Hạnh"
    persistent_context.set_offline(True)
    try:
        page.reload()
        assert page.locator(".qr-name").first.inner_text() == name
        assert page.locator(".qr-image svg").first.is_visible()
    finally:
        persistent_context.set_offline(False)
    page.goto("/qr")
    page.get_by_role("button", name="Đăng xuất").first.click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.evaluate("caches.has('khaibao-personal')") is False
    persistent_context.set_offline(True)
    try:
        page.goto("/qr")
        assert page.get_by_role("heading", level=1).inner_text() == "Không có kết nối mạng"
        assert page.locator(".qr-card").count() == 0
        assert "Võ Thị Hạnh" not in page.content()
    finally:
        persistent_context.set_offline(False)


def test_declaration_made_offline_is_sent_once(persistent_context, live_server):
    page = persistent_context.new_page()
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    controlled(page)
    fill_person(page.locator("#nguoi-moi-0"), name="Lê Văn Bình",
                id_type="Chứng minh nhân dân (CMND)", id_number=str(time.time_ns())[-9:],
                birth_year="1979", sex="Nam")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    persistent_context.set_offline(True)
    try:
        page.get_by_role("button", name="Gửi khai báo").click()
        page.get_by_text("Đã lưu, sẽ gửi khi có mạng").wait_for()
        badge = page.locator("#cho-gui")
        badge.wait_for(state="visible")
        assert badge.locator("[data-pending-count]").inner_text() == "1"
        entries = page.evaluate("KhaiBaoStore.all('outbox')")
        assert len(entries) == 1
        ref = entries[0]["client_ref"]
        assert declarations_with(live_server, ref) == 0
    finally:
        persistent_context.set_offline(False)
    # The online event sends it; trigger two more syncs at once on top of it. When the
    # online event's send already succeeded, the page is on its way to the QR and this
    # script's page goes away under it: that is fine, the count below is what matters.
    try:
        page.evaluate("Promise.all([KhaiBaoOutbox.flush(), KhaiBaoOutbox.flush()])")
    except PlaywrightError as error:
        assert "Execution context was destroyed" in str(error)
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    assert page.locator(".qr-name").first.inner_text() == "Lê Văn Bình"
    assert declarations_with(live_server, ref) == 1
    assert page.evaluate("KhaiBaoStore.all('outbox')") == []
    assert page.locator("#cho-gui").is_hidden()


def _serve(env, port: int, cwd) -> subprocess.Popen:
    process = subprocess.Popen([KHAIBAO, "serve", "--port", str(port)], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def test_deploy_shows_update_banner(playwright_instance, tmp_path):
    """A deploy = the server restarted on changed files: here a copy of src/ with one static
    file changed, on the same origin."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

    (tmp_path / "server").mkdir()
    server = start_server(tmp_path / "server")
    port = int(server.url.rsplit(":", 1)[1])
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        headless=True, base_url=server.url, locale="vi-VN")
    deployed = None
    try:
        page = context.new_page()
        page.goto("/")
        controlled(page)
        before = page.evaluate("caches.keys()")
        assert page.locator("#cap-nhat").is_hidden()
        stop_server(server)
        copy = tmp_path / "deploy"
        shutil.copytree(SRC, copy / "khaibao", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(SRC.parent / "service_worker", copy / "khaibao" / "service_worker")
        css = copy / "khaibao" / "static" / "css" / "pwa.css"
        css.write_text(css.read_text() + "\n/* deploy test */\n")
        deployed = _serve({**server.env, "PYTHONPATH": str(copy)}, port, server.directory)
        page.goto("/kbyt")
        banner = page.locator("#cap-nhat")
        banner.wait_for(state="visible", timeout=15_000)
        assert "Có phiên bản mới" in banner.inner_text()
        with page.expect_event("load"):
            banner.get_by_role("button", name="Tải lại").click()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.wait_for_function(f"caches.keys().then(k => k.some(n => n.startsWith("
                               f"'khaibao-shell-') && !{before!r}.includes(n)))")
        after = page.evaluate("caches.keys()")
        assert [k for k in after if k.startswith("khaibao-shell-")] != [
            k for k in before if k.startswith("khaibao-shell-")]
        assert page.locator("#cap-nhat").is_hidden()
    finally:
        context.close()
        if deployed is not None:
            deployed.terminate()
            deployed.wait(timeout=15)
        else:
            stop_server(server)


@pytest.mark.parametrize("path", ["/kbyt", "/khaibao", "/quet", "/huong-dan", "/"])
def test_first_load_of_each_citizen_page_is_small(browser, live_server, capsys, path):
    """≤ 60 KB compressed on a first visit: the page, everything it loads, and what the
    service worker then downloads for its precache."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    assert _first_load(context, live_server, path, capsys) <= 60 * 1024


@pytest.mark.parametrize("path", ["/kbyt/khai-bao", "/qr"])
def test_first_load_of_signed_in_citizen_pages_is_small(browser, live_server, capsys, path):
    """The same budget for the pages behind the phone's sign-in, opened in a browser that
    has the session cookie and nothing cached."""
    signing = browser.new_context(base_url=live_server.url, locale="vi-VN")
    declare_online(signing.new_page(), live_server)
    state = signing.storage_state()
    signing.close()
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  storage_state=state)
    assert _first_load(context, live_server, path, capsys) <= 60 * 1024


def _first_load(context, live_server, path, capsys) -> int:
    """Bytes on the wire for ``path`` in a fresh ``context`` (closed after), printed."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"],
                                                                    e["request"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == path  # the page itself, not a sign-in redirect
    page_total = sum(sizes.values())
    # What the service worker downloads for its precache on that first visit (not seen by
    # the page's CDP session): the shell files not already loaded by the page, as sent.
    seen = {urls.get(r, "").split(live_server.url)[-1] for r in sizes}
    source = urllib.request.urlopen(live_server.url + "/sw.js").read().decode()
    shell = re.search(r"const APP_SHELL = \[(.*?)\];", source).group(1)
    extra = 0
    for shell_path in re.findall(r'"([^"]+)"', shell):
        if shell_path in seen:
            continue
        request = urllib.request.Request(live_server.url + shell_path,
                                         headers={"Accept-Encoding": "gzip, deflate, br"})
        with urllib.request.urlopen(request) as response:
            extra += len(response.read()) + 300  # + headers, roughly
    with capsys.disabled():
        print(f"\n{path} first load: page {page_total / 1024:.1f} KB in {len(sizes)} responses"
              f" + service-worker precache {extra / 1024:.1f} KB")
        for request_id, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
            print(f"  {size / 1024:6.1f} KB  {urls.get(request_id, '?')}")
    context.close()
    return int(page_total + extra)


def test_officer_lookup_retries_when_the_network_drops(browser, live_server):
    """A failed POST shows "Mất kết nối mạng — đang thử lại" and is sent again once the
    network is back: the scan is not lost."""
    number = "046190" + f"{random.randrange(10**6):06d}"
    made = subprocess.run([sys.executable, "-c", SETUP, number, f"{random.randrange(10**6):06d}"],
                          env=live_server.env, cwd=live_server.directory, capture_output=True,
                          text=True, timeout=60, check=True)
    people = json.loads(made.stdout.strip().splitlines()[-1])
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    context.add_cookies([{"name": "khaibao_officer", "value": people["session"],
                          "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto("/kiemtra")
        page.fill("#q", people["token"])
        context.set_offline(True)
        page.keyboard.press("Enter")
        banner = page.locator("#trang-thai-mang")
        banner.wait_for(state="visible")
        assert "đang thử lại" in banner.inner_text()
        assert page.locator("#ket-qua .check-name").count() == 0
        context.set_offline(False)
        page.wait_for_selector("#ket-qua .check-name", timeout=15_000)
        assert "Hoàng Thị Mai" in page.locator("#ket-qua").inner_text()
        assert banner.is_hidden()
    finally:
        context.close()
