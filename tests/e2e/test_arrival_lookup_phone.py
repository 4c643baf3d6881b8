"""Tra cứu khai báo về Huế on a phone (touch, vi-VN, 360×640 and 390×844), right after an
arrival: one column as wide as the screen, no list bullets or indent, the trip's vehicle and
"Khai báo lúc" on lines of their own, and the places passed through named."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import PHONES, save_failure_screenshot, watch_csp
from tests.e2e.test_arrival_journey import choose_region
from tests.e2e.test_citizen_journey import fill_person, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def test_the_lookup_reads_as_one_column_on_a_phone(browser, live_server, request, viewport):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=viewport,
                                  is_mobile=True, has_touch=True)
    page = watch_csp(context.new_page())
    try:
        sign_in(page, live_server, button="Khai báo về Huế", start="/khaibao")
        page.wait_for_url("**/khaibao/khai-bao")
        fill_person(page.locator("#nguoi-moi-0"), name="Đỗ Quang Vinh",
                    id_type="Chứng minh nhân dân (CMND)",
                    id_number=f"01{random.randrange(10**7):07d}", birth_year="1995", sex="Nam")
        choose_region(page.locator("#origin_region-picker"),
                      ("Tỉnh / thành phố", "Thành phố Hà Nội"),
                      ("Phường / xã", "Phường Hoàn Kiếm"))
        choose_region(page.locator("#passed0_region-picker"),
                      ("Tỉnh / thành phố", "Thành phố Đà Nẵng"),
                      ("Phường / xã", "Phường Hải Châu"))
        today = datetime.now()
        page.get_by_label("Ngày khởi hành").fill((today - timedelta(days=1)).strftime("%Y-%m-%d"))
        page.get_by_label("Dự kiến đến lúc").fill(today.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Phương tiện").select_option(label="Xe khách")
        page.get_by_label("Biển số xe hoặc số hiệu chuyến bay/tàu").fill("29B-123.45")
        choose_region(page.locator("#destination_region-picker"),
                      ("Phường / xã", "Phường Thuận An"))
        page.get_by_role("button", name="Gửi khai báo").click()
        page.wait_for_url(re.compile(r".*/khaibao/tra-cuu\?ref=.*"))

        width = viewport["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        trip = page.locator("ol.trips > li").first
        style = trip.evaluate("li => [getComputedStyle(li).listStyleType,"
                              " getComputedStyle(li.parentElement).paddingLeft]")
        assert style == ["none", "0px"]
        assert trip.bounding_box()["width"] >= 0.75 * width  # not a narrow column
        # "Khai báo lúc …" on a line of its own, below the vehicle's line.
        declared = trip.locator(".hint", has_text="Khai báo lúc")
        assert declared.evaluate("e => getComputedStyle(e).display") == "block"
        line = trip.evaluate("""li => {
            const walker = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
            let node; while ((node = walker.nextNode())) {
                if (node.textContent.includes("29B-123.45")) {
                    const range = document.createRange(); range.selectNodeContents(node);
                    return range.getBoundingClientRect().bottom; } }
            return null; }""")
        assert line is not None and declared.bounding_box()["y"] >= line - 1
        assert "Qua: Phường Hải Châu, Thành phố Đà Nẵng" in trip.inner_text()
        assert page.csp_errors == []
    finally:
        save_failure_screenshot(request, page)
        context.close()
