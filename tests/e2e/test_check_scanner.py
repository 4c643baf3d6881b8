"""The officer's check in Chromium: the camera scanner reads a citizen's QR and the result
swaps in without a page load; typing the token (as a USB barcode reader does) then Enter gives
the same result and leaves the field empty and focused; a chip-CCCD text finds the same person.

The officer and the citizen are made in the live server's database by a small script (there
is no CLI for sessions); the officer's session cookie is then put into the browser.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    CHROMIUM,
    add_officer_cookie,
    camera_browser,
    camera_video,
    run_setup,
    save_failure_screenshot,
)

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Cán bộ Trình Duyệt", "checkpoint")
    account, person_id = await make_person(settings, "Hoàng Thị Mai", sys.argv[1],
                                           phone="+84905" + sys.argv[2], sex="female",
                                           declared=True)
    view = await people.get_person(account, person_id, settings)
    return {"session": session, "token": view.token}
"""


@pytest.fixture(scope="module")
def people_made(live_server) -> dict[str, str]:
    number = "046190" + f"{random.randrange(10**6):06d}"
    made = run_setup(live_server, SETUP, number, f"{random.randrange(10**6):06d}")
    return {**made, "cccd": number}


def _wait_result(page) -> None:
    page.wait_for_selector("#ket-qua .check-name", timeout=15_000)


def test_camera_scan_shows_result_without_reload(playwright_instance, live_server, people_made,
                                                 tmp_path, request):
    if not Path(CHROMIUM).exists() or shutil.which("ffmpeg") is None:
        pytest.skip("needs Chromium and ffmpeg")
    video = camera_video(tmp_path, "token", people_made["token"])
    browser = camera_browser(playwright_instance, video)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        add_officer_cookie(context, live_server, people_made["session"])
        page.goto("/kiemtra/quet")
        page.wait_for_selector("#may-quet.qr-scanner--ready")
        page.evaluate("window.__samePage = true")
        page.click("#may-quet [data-qr-toggle]")
        _wait_result(page)
        assert page.text_content("#ket-qua .check-name") == "Hoàng Thị Mai"
        assert page.is_visible("#ket-qua .check-banner-green")
        assert page.evaluate("window.__samePage") is True  # no page load
        assert page.get_attribute("#may-quet", "data-qr-state") == "scanning"  # continuous
        # the code stays in view: it is not looked up again
        page.wait_for_timeout(1500)
        assert page.evaluate("document.body.getAttribute('data-check-colour')") == "green"
        assert page.input_value("#q") == ""
        page.click("#ghi-nhan button")
        page.wait_for_selector("#ghi-nhan .message-ok")
        assert "Đã ghi nhận Hoàng Thị Mai" in page.text_content("#ghi-nhan")
        assert [m for m in console if "Content Security Policy" in m
                or m.startswith("pageerror")] == []
    finally:
        save_failure_screenshot(request, page)
        context.close()
        browser.close()


def test_typed_token_and_chip_text(browser, live_server, people_made, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        add_officer_cookie(context, live_server, people_made["session"])
        page.goto("/kiemtra")
        assert page.is_visible("text=KIỂM TRA KBYT TRONG TỈNH")
        assert page.is_visible("text=KIỂM TRA VÀO HUẾ")
        assert page.evaluate("document.activeElement.id") == "q"  # autofocus
        page.evaluate("window.__samePage = true")
        page.keyboard.type(people_made["token"])
        page.keyboard.press("Enter")
        _wait_result(page)
        assert page.text_content("#ket-qua .check-name") == "Hoàng Thị Mai"
        assert page.is_visible("#ket-qua .check-banner-green")
        assert page.evaluate("window.__samePage") is True
        assert page.input_value("#q") == ""
        assert page.evaluate("document.activeElement.id") == "q"

        chip = f"{people_made['cccd']}||HOANG THI MAI|01011990|Nữ|Huế|01012021"
        page.fill("#q", chip)
        page.keyboard.press("Enter")
        page.wait_for_selector("#ket-qua .check-chip")
        assert page.text_content("#ket-qua .check-name") == "Hoàng Thị Mai"
        assert "Tên trên thẻ CCCD: HOANG THI MAI" in page.text_content("#ket-qua .check-chip")
        assert page.locator("#ket-qua .check-mismatch").count() == 0
        assert page.input_value("#q") == ""

        page.keyboard.press("Enter")  # empty: the error sits next to the field
        page.wait_for_selector("#q-loi")
        assert page.get_attribute("#q", "aria-invalid") == "true"
        assert page.evaluate("window.__samePage") is True
        assert [m for m in console if "Content Security Policy" in m] == []
    finally:
        save_failure_screenshot(request, page)
        context.close()
