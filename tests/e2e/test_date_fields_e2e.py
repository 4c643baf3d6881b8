"""Date fields on a phone whose system language is English: Chromium shows the field as
mm/dd/yyyy whatever the page's language, so each date field says back the day chosen in the
page's words — 05/12 is never read the wrong way round."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import save_failure_screenshot, watch_csp
from tests.e2e.test_citizen_journey import sign_in

pytestmark = pytest.mark.e2e


def test_the_day_chosen_is_said_back_in_the_pages_language(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    # The phone in English, the pages chosen in Vietnamese (the language switch's cookie).
    context.add_cookies([{"name": "lang", "value": "vi", "url": live_server.url}])
    page = watch_csp(context.new_page())
    try:
        sign_in(page, live_server, button="Khai báo về Huế", start="/khaibao")
        page.wait_for_url("**/khaibao/khai-bao")
        departure = page.get_by_label("Ngày khởi hành")
        departure.fill("2026-12-05")
        echo = page.locator("#departure_date-ngay-chon")
        assert echo.inner_text() == "Ngày đã chọn: Thứ Bảy, 5 tháng 12, 2026"
        box, field = echo.bounding_box(), departure.bounding_box()
        assert 0 < box["y"] - (field["y"] + field["height"]) < 40  # right under the field
        page.get_by_label("Dự kiến đến lúc").fill("2026-12-06T07:30")
        arrival_echo = page.locator("#arrival_at-ngay-chon")
        assert "Chủ Nhật, 6 tháng 12, 2026" in arrival_echo.inner_text()
        assert "07:30" in arrival_echo.inner_text()
        departure.fill("")
        assert echo.inner_text() == ""
    finally:
        save_failure_screenshot(request, page)
        context.close()
