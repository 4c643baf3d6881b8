"""Signing out on a phone (touch, vi-VN, 360×640 and 390×844), and the address bar after each
page change of the citizen's pages.

Offline, "Đăng xuất" would take the QR that opens without network off this phone: the page
asks first, in the page itself (no browser dialog), and says so. After each swap or redirect
the address bar names the page shown, so a reload or a shared link opens that page again.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONES,
    save_failure_screenshot,
    watch_csp,
)
from tests.e2e.test_citizen_journey import fill_person, sign_in
from tests.e2e.test_pwa_offline import controlled, declare_online

pytestmark = pytest.mark.e2e

OFFLINE_WARNING = "mã QR sẽ không mở được khi không có mạng trên điện thoại này"


@pytest.fixture(params=PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def phone_profile(playwright_instance, live_server, tmp_path, request):
    """A phone with a persistent profile: the service worker keeps /qr for offline use."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        headless=True, base_url=live_server.url, locale="vi-VN", viewport=request.param,
        is_mobile=True, has_touch=True, device_scale_factor=2)
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()


def path_of(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def test_offline_sign_out_asks_first_and_says_the_qr_goes(phone_profile, live_server):
    page = phone_profile
    declare_online(page, live_server, name="Đặng Thị Ngân")
    controlled(page)
    page.goto("/qr")
    page.context.set_offline(True)
    try:
        page.reload()
        assert page.locator(".qr-name").first.inner_text() == "Đặng Thị Ngân"
        page.get_by_role("button", name="Đăng xuất", exact=True).click()
        ask = page.get_by_role("alertdialog")
        ask.wait_for()
        assert OFFLINE_WARNING in ask.inner_text()
        box = ask.bounding_box()  # the question is on the screen, not below the QR
        assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
        # "Ở lại": nothing is taken away, the QR stays on the screen and in the phone
        ask.get_by_role("button", name="Ở lại").click()
        assert not ask.is_visible()
        assert page.evaluate("caches.has('khaibao-personal')") is True
        assert page.locator(".qr-card .qr-image svg").first.is_visible()
        assert path_of(page) == "/qr"

        page.get_by_role("button", name="Đăng xuất", exact=True).click()
        ask.get_by_role("button", name="Vẫn đăng xuất").click()
        # the address bar names the page shown: the offline page, not the sign-out address
        page.wait_for_url("**/offline")
        assert page.get_by_role("heading", level=1).inner_text() == "Không có kết nối mạng"
        assert page.evaluate("caches.has('khaibao-personal')") is False
    finally:
        page.context.set_offline(False)
    assert page.csp_errors == []


def test_online_sign_out_does_not_ask(phone_profile, live_server):
    page = phone_profile
    declare_online(page, live_server, name="Lý Văn Phát")
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.get_by_role("link", name="Khai báo y tế").first.is_visible()
    assert page.csp_errors == []


@pytest.mark.parametrize("start", ["/qr", "/kbyt/khai-bao", "/khaibao/khai-bao",
                                   "/khaibao/tra-cuu"])
def test_address_bar_names_the_page_after_sign_out(phone_profile, live_server, start):
    page = phone_profile
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    page.goto(start)
    assert path_of(page) == start
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_url(re.compile(r".*/$"))
    assert path_of(page) == "/"
    assert page.locator("form.sign-out").count() == 0  # the home page, signed out
    page.reload()  # the address bar's page is the one shown
    assert path_of(page) == "/"
    assert page.csp_errors == []


def heading_after_reload(page) -> tuple[str, str]:
    """The page's heading, and the heading of what its address bar opens."""
    shown = page.get_by_role("heading", level=1).first.inner_text()
    page.reload()
    return shown, page.get_by_role("heading", level=1).first.inner_text()


def test_address_bar_follows_sign_in_and_declaration(phone_profile, live_server):
    page = phone_profile
    page.goto("/qr")  # signed out: asked to verify the phone first, the address says so
    page.wait_for_url(re.compile(r".*/kbyt\?tiep=/qr$"))
    sign_in(page, live_server, start="/kbyt?tiep=/qr")
    page.wait_for_url(lambda url: "/kbyt?" not in url)
    shown, opened = heading_after_reload(page)
    assert shown == opened, page.url
    page.goto("/kbyt/khai-bao")
    fill_person(page.locator("#nguoi-moi-0"), name="Tôn Nữ Mai", sex="Nữ", birth_year="1990",
                id_type="Chứng minh nhân dân (CMND)", id_number=f"19{time.time_ns() % 10**7:07d}")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    shown, opened = heading_after_reload(page)
    assert shown == opened == "Mã QR của tôi", page.url
    assert page.csp_errors == []
