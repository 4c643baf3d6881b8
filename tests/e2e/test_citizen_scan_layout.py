"""Quét QR điểm đến on a phone (vi-VN, 360×640 and 390×844): when the camera reads a code that
is not a venue's, the reason is on the screen at once, not below the fold under the camera."""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import PHONES, camera_browser, camera_video, save_failure_screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def test_a_wrong_kind_of_qr_says_why_on_screen(playwright_instance, live_server, tmp_path,
                                              request, viewport):
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    video = camera_video(tmp_path, "foreign", "https://example.com/not-a-venue")
    browser = camera_browser(playwright_instance, video)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=viewport,
                                  is_mobile=True, has_touch=True, permissions=["camera"])
    page = context.new_page()
    try:
        page.goto("/quet")
        page.get_by_role("button", name="Bật camera để quét").click()
        error = page.get_by_text("Mã QR này không phải của hệ thống Khai Báo.")
        error.wait_for(timeout=15_000)
        page.wait_for_timeout(500)  # any scrolling done
        box = error.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box
        # What was read is echoed in the field, to compare with the poster.
        assert page.get_by_label("Hoặc nhập mã / đường dẫn in dưới mã QR").input_value() == (
            "https://example.com/not-a-venue")
    finally:
        save_failure_screenshot(request, page)
        context.close()
        browser.close()
