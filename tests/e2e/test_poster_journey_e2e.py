"""A venue poster opened from the phone's camera app while signed out, on a new phone, at
360×640 and 390×844 (touch, vi-VN): every page on the way names the venue and says this is a
check-in; the new phone is told why it declares first; the address bar always shows the page
shown; the check-in page is the end."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from tests.e2e.conftest import PHONES, run_setup, save_failure_screenshot, watch_csp
from tests.e2e.test_citizen_journey import fill_person, new_phone

pytestmark = pytest.mark.e2e

SETUP = r"""
from khaibao.venues import venues

async def main(settings):
    venue = await venues.create(venues.VenueInput(
        name="Siêu thị " + sys.argv[1], kind="market", address="1 Lê Lợi"), settings)
    return {"name": venue.name, "url": venue.poster_url(settings)}
"""


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def test_a_poster_opened_signed_out_leads_to_its_check_in(browser, live_server, request,
                                                          viewport):
    venue = run_setup(live_server, SETUP, uuid.uuid4().hex[:6])
    path = "/v/" + venue["url"].rsplit("/", 1)[1]
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=viewport,
                                  is_mobile=True, has_touch=True)
    page = watch_csp(context.new_page())
    try:
        page.goto(venue["url"])
        assert page.url == f"{live_server.url}/kbyt?tiep={path}"
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == f"Check-in tại {venue['name']}"
        assert heading.bounding_box()["y"] < viewport["height"]

        typed, e164 = new_phone()
        page.get_by_label("Số điện thoại di động").fill(typed)
        page.get_by_role("button", name="Tiếp tục để check-in").click()
        page.get_by_label("Mã OTP").wait_for()
        page.get_by_label("Mã OTP").fill(live_server.last_otp(e164))
        page.get_by_role("button", name="Xác thực").click()

        page.wait_for_url(f"**/kbyt/khai-bao?tiep={path}")
        why = page.get_by_text(f"Để check-in tại {venue['name']}, hãy khai báo y tế trước")
        box = why.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box
        fill_person(page.locator("#nguoi-moi-0"), name="Phan Văn Đức",
                    id_type="Chứng minh nhân dân (CMND)",
                    id_number=f"19{random.randrange(10**7):07d}", birth_year="1980", sex="Nam")
        page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
        page.get_by_role("button", name="Gửi khai báo").click()

        page.wait_for_url(re.compile(rf"^{re.escape(live_server.url + path)}$"))
        assert page.get_by_role("heading", name=venue["name"]).is_visible()
        page.get_by_role("button", name="Check-in", exact=True).click()
        page.wait_for_url(re.compile(rf"^{re.escape(live_server.url + path)}\?kq=moi$"))
        assert "Phan Văn Đức" in page.locator(".checkin-confirm").inner_text()
        assert page.csp_errors == []
    finally:
        save_failure_screenshot(request, page)
        context.close()
