"""The live QR (mã QR động) in Chromium: the phone computes a new code every 30 s from its
device key (WebCrypto, offline too); a 40-second-old screenshot is refused by the officer's
check as expired, the current one accepted."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import decode_qr
from tests.e2e.test_pwa_offline import controlled, declare_online

pytestmark = pytest.mark.e2e

LIVE = re.compile(r"^KB1L[0-9A-Z]{34}$")

LOOKUP = r"""
import asyncio, json, sys
from khaibao.checks import checks
from khaibao.core import db
from khaibao.core.settings import Settings

async def main():
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        out = []
        for text in sys.argv[1:]:
            result = await checks.lookup(text, settings)
            out.append({"kind": result.kind,
                        "error": result.error.code if result.error else None,
                        "message": result.error.message("vi") if result.error else None,
                        "person": result.person.full_name if result.person else None})
        print(json.dumps(out))
    finally:
        await db.disconnect()

asyncio.run(main())
"""


def lookup(live_server, *texts: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", LOOKUP, *texts], env=live_server.env,
                          cwd=live_server.directory, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def shot(page, path) -> str:
    page.locator("[data-live-qr] canvas").first.screenshot(path=str(path))
    return decode_qr(path)


def test_live_qr_refreshes_offline_and_old_screenshots_expire(persistent_context, live_server,
                                                               tmp_path):
    page = persistent_context.new_page()
    declare_online(page, live_server, name="Nguyễn Thị Thu")
    controlled(page)
    page.goto("/qr")
    page.get_by_role("button", name="Dùng mã QR động trên điện thoại này").click()
    live = page.locator("[data-live-qr]").first
    live.wait_for(state="visible")
    assert page.locator("[data-static-qr]").first.is_hidden()
    assert "Mã tự đổi sau" in live.inner_text()
    # the key is kept as a non-extractable WebCrypto key
    stored = page.evaluate("KhaiBaoStore.all('device_keys').then(k => k.map(e => ("
                           "{ref: e.reference, extractable: e.key.extractable,"
                           " algo: e.key.algorithm.name})))")
    assert len(stored) == 1 and stored[0]["extractable"] is False
    assert stored[0]["algo"] == "HMAC"

    # Screenshot 1, "taken 40 s ago" (the page's clock is moved back), screenshot 2 now.
    page.evaluate("KhaiBaoLiveQR.clock = () => Date.now() - 40000; KhaiBaoLiveQR.refresh()")
    old = shot(page, tmp_path / "old.png")
    page.evaluate("KhaiBaoLiveQR.clock = null; KhaiBaoLiveQR.refresh()")
    new = shot(page, tmp_path / "new.png")
    assert LIVE.match(old) and LIVE.match(new), (old, new)
    assert old != new and old[4:14] == new[4:14] == stored[0]["ref"]
    for personal in ("Nguyễn", "Thu", "1991"):
        assert personal not in new

    refused, accepted = lookup(live_server, old, new)
    assert refused["error"] == "token.expired" and refused["person"] is None
    assert refused["message"] == "Mã đã hết hạn — mở lại ứng dụng."
    assert accepted["error"] is None and accepted["person"] == "Nguyễn Thị Thu"
    assert accepted["kind"] == "live_token"

    # Airplane mode: the kept /qr page opens and the code keeps changing.
    persistent_context.set_offline(True)
    try:
        page.reload()
        page.locator("[data-live-qr]").first.wait_for(state="visible")
        offline_now = shot(page, tmp_path / "offline-now.png")
        page.evaluate("KhaiBaoLiveQR.clock = () => Date.now() + 30000")
        page.wait_for_function(
            "document.querySelector('[data-live-countdown]').textContent !== ''")
        page.wait_for_timeout(1500)  # the page redraws every second
        offline_next = shot(page, tmp_path / "offline-next.png")
    finally:
        persistent_context.set_offline(False)
    assert LIVE.match(offline_now) and LIVE.match(offline_next)
    assert offline_now != offline_next
    assert lookup(live_server, offline_now)[0]["person"] == "Nguyễn Thị Thu"

    # Removing the device from the list on /qr revokes its key.
    page.goto("/qr")
    page.locator("[data-live-qr]").first.wait_for(state="visible")
    current = shot(page, tmp_path / "before-removal.png")
    page.locator("details.qr-devices summary").first.click()
    page.get_by_role("button", name="Gỡ thiết bị này").first.click()
    page.wait_for_url(re.compile(r".*/qr(#.*)?$"))
    gone = lookup(live_server, current)[0]
    assert gone["person"] is None and gone["error"] == "check.not_found"
    page.wait_for_function("KhaiBaoStore.all('device_keys').then(k => k.length === 0)")
    assert page.locator("[data-static-qr]").first.is_visible()
