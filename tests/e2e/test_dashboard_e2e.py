"""In Chromium: the admin creates an officer scoped to one ward; that officer's dashboard and
exports show only that ward (another ward is refused). Also takes the screenshots the guides
(/huong-dan) show, into src/static/guides/ — so a guide never shows a screen the app no
longer has."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
# `make guides` (KHAIBAO_GUIDE_SCREENSHOTS=1) refreshes the guides' pictures in the source
# tree; an ordinary test run takes the same screenshots into test-artifacts/ instead, so it
# never changes tracked files.
GUIDES = (ROOT / "src" / "static" / "guides" if os.environ.get("KHAIBAO_GUIDE_SCREENSHOTS")
          else ROOT / "test-artifacts" / "guides")

# Run in a separate interpreter against the live server's database (see test_policy_admin).
SETUP = """
import asyncio, json
from khaibao.core import db
from khaibao.demo import demo_bulk
from khaibao.officers import officers
from khaibao.regions import regions
from khaibao.core.settings import Settings

async def main():
    db.configure(Settings.from_env())
    await db.connect()
    try:
        # The last two wards: other browser tests on this server declare into the first ones.
        wards = [w for w in await regions.children("VN-46") if w.kind == "ward"][-2:]
        origin = [w.code for w in await regions.children("VN-01") if w.kind == "ward"][:2]
        admin = await officers.create("Quản Trị Tổng Quan", "admin")
        cp = await officers.create("Cán bộ chốt Tổng Quan", "checkpoint")
        from khaibao.arrivals import arrivals
        checkpoint = await arrivals.add_checkpoint("Chốt Phong Điền", region_code=wards[0].code)
        counts = {}
        for i, ward in enumerate(wards):
            report = await demo_bulk.fill(
                ward_codes=[ward.code], origin_codes=origin, officer_id=cp.id,
                checkpoint_ids=[checkpoint], persons=30, declarations=120 + 60 * i,
                arrivals=20 + 10 * i, checkins=150, scans=60, otp=200 if i == 0 else 0,
                days=20,
                seed=i + 1, tag=f"e2e-{i}")
            counts[ward.code] = report.declarations
        print(json.dumps({"admin": await officers.start_session(admin.id),
                          "wards": [[w.code, w.name] for w in wards], "counts": counts}))
    finally:
        await db.disconnect()

asyncio.run(main())
"""

SESSION_FOR = """
import asyncio, sys
from khaibao.core import db
from khaibao.officers import officers
from khaibao.core.settings import Settings
from khaibao.tables import Officer

async def main():
    db.configure(Settings.from_env())
    await db.connect()
    try:
        row = await Officer.select(Officer.id).where(Officer.name == sys.argv[1]).first().run()
        print(await officers.start_session(row["id"]))
    finally:
        await db.disconnect()

asyncio.run(main())
"""


def _python(live_server, code: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], env=live_server.env,
                            cwd=live_server.directory, capture_output=True, text=True,
                            timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


def _cookie(page, live_server, raw: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "khaibao_officer", "value": raw,
                               "url": live_server.url}])


def _shot(page, name: str, anchor: str | None = None) -> None:
    """A 1280×800 screenshot, scrolled so that ``anchor`` (an element id) is at the top."""
    GUIDES.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    if anchor:
        page.evaluate(f"document.getElementById('{anchor}').scrollIntoView()")
    page.screenshot(path=str(GUIDES / f"{name}.png"))


def test_scoped_officer_sees_and_exports_only_their_ward(page, live_server):
    setup = json.loads(_python(live_server, SETUP))
    (ward_a, name_a), (ward_b, _name_b) = setup["wards"]
    _cookie(page, live_server, setup["admin"])

    # The admin creates a local official for ward A with the region picker.
    page.goto("/quan-tri/can-bo")
    page.get_by_label("Họ và tên").fill("Cán Bộ Phường Một")
    page.get_by_label("Vai trò").select_option("local")
    page.locator("#region-province").select_option("VN-46")
    expect(page.locator("#region-ward")).to_be_enabled()
    page.locator("#region-ward").select_option(ward_a)
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Tạo cán bộ và cấp liên kết đăng ký").click()
    expect(page.get_by_text("Cán Bộ Phường Một").first).to_be_visible()

    # The admin's dashboard: the whole deployment, with OTP numbers; screenshots for guides.
    page.goto("/quan-tri/tong-quan")
    # The whole deployment: these wards' declarations and whatever other tests added.
    shown = page.locator(".stat-declarations")
    expect(shown).to_have_text(re.compile(r"^\d+$"))
    assert int(shown.inner_text()) >= sum(setup["counts"].values())
    expect(page.get_by_role("heading", name="Mã OTP đã gửi và bị khoá")).to_be_visible()
    _shot(page, "dashboard", "board-heading")
    page.goto("/quan-tri/xuat-du-lieu")
    _shot(page, "exports", "noi-dung")
    page.goto("/quan-tri/api")
    page.get_by_label("Tên hệ thống dùng khoá").fill("Cổng dữ liệu quốc gia")
    page.get_by_role("button", name="Tạo khoá").click()
    expect(page.locator("#raw-key")).to_contain_text("kb_")
    _shot(page, "api_keys")
    page.goto("/quan-tri/nhat-ky")
    expect(page.locator(".audit-table")).to_contain_text("Tạo khoá API")
    _shot(page, "audit")
    page.goto("/kiemtra")
    _shot(page, "check")
    page.goto("/quan-tri/diem-den")
    _shot(page, "venues")

    # The ward official: only ward A's numbers and rows.
    _cookie(page, live_server, _python(live_server, SESSION_FOR, "Cán Bộ Phường Một"))
    page.goto("/quan-tri/tong-quan")
    expect(page.locator(".stat-declarations")).to_have_text(str(setup["counts"][ward_a]))
    expect(page.locator("#board-heading")).to_contain_text(name_a)
    expect(page.locator("#region-province")).to_have_count(0)  # no area picker
    expect(page.get_by_role("heading", name="Mã OTP đã gửi và bị khoá")).to_have_count(0)
    page.goto(f"/quan-tri/tong-quan?region={ward_b}")
    expect(page.locator("#scope-refused")).to_be_visible()

    page.goto("/quan-tri/xuat-du-lieu")
    page.get_by_label("Từ ngày").fill((date.today() - timedelta(days=40)).isoformat())
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Tải về tệp CSV").click()
    text = Path(download_info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == setup["counts"][ward_a]
    assert {row[3] for row in rows[1:]} == {f"{name_a}, Thành phố Huế"}  # the area in words
    response = page.request.get(f"/quan-tri/xuat-du-lieu/tai-ve?region={ward_b}")
    assert response.status == 403
    assert "text/csv" not in response.headers["content-type"]


# The citizen guide is read on a phone: its pictures are phone screens (360×640 at two image
# pixels per CSS pixel, 720×1280), shown at the width of the guide's column.
PHONE_SHOT = {"width": 360, "height": 640}


def test_guides_show_the_screenshots(page, browser, live_server):
    phone = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=PHONE_SHOT,
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        shot = phone.new_page()
        GUIDES.mkdir(parents=True, exist_ok=True)
        for name, path in (("home", "/"), ("kbyt", "/kbyt"), ("arrival", "/khaibao")):
            shot.goto(path)
            shot.screenshot(path=str(GUIDES / f"{name}.png"))
    finally:
        phone.close()
    page.goto("/huong-dan/nguoi-dan")
    expect(page.get_by_role("heading", name="Hướng dẫn: Người dân")).to_be_visible()
    image = page.locator("img.guide-shot").first
    image.scroll_into_view_if_needed()  # the pictures load lazily
    expect(image).to_have_js_property("complete", True)
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
