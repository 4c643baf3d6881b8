"""Kiosk mode in Chromium: an officer starts it, a person without a phone declares and sees
the QR, "Xong" resets, Back does not bring the previous person back, and the idle reset.

The officer and the checkpoint are made in the live server's database by a small script
(there is no CLI for sessions); the officer's session cookie is then put into the browser.
"""

from __future__ import annotations

import random

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup

pytestmark = pytest.mark.e2e

SETUP = r"""
from khaibao.arrivals import arrivals

async def main(settings):
    checkpoint = await arrivals.add_checkpoint("Chốt Kiosk Trình Duyệt %d"
                                               % random.randrange(10**6))
    _officer, session = await officer_session("Cán bộ Kiosk", "checkpoint",
                                              checkpoint_id=checkpoint)
    return {"session": session, "checkpoint": checkpoint}
"""


@pytest.fixture
def kiosk_page(page, live_server):
    """A browser tab in kiosk mode, started by an officer as they would."""
    made = run_setup(live_server, SETUP)
    add_officer_cookie(page.context, live_server, made["session"])
    page.goto("/kiemtra/kiosk")
    assert page.get_by_label("Chốt kiểm soát của kiosk").input_value() == str(made["checkpoint"])
    page.get_by_role("button", name="Bật chế độ kiosk trên thiết bị này").click()
    page.wait_for_url("**/kiosk")
    names = {c["name"] for c in page.context.cookies()}
    assert "khaibao_kiosk" in names and "khaibao_officer" not in names
    return page


def test_person_without_phone_declares_sees_qr_and_reset_forgets(kiosk_page):
    page = kiosk_page
    name = "Trương Văn " + random.choice(["Kiốt", "Khải", "Lộc", "Phúc", "Quang"])
    page.get_by_role("link", name="Khai báo y tế").click()
    page.get_by_role("link", name="Khai báo không cần số điện thoại").click()
    form = page.locator("form#khai-bao-ho")
    assert form.get_attribute("autocomplete") == "off"
    form.get_by_label("Họ và tên").fill(name)
    form.get_by_label("Loại giấy tờ").select_option(label="Chứng minh nhân dân (CMND)")
    form.get_by_label("Số CCCD/CMND").fill("".join(random.choices("123456789", k=9)))
    form.get_by_label("Năm sinh").fill("1961")
    form.get_by_label("Nam", exact=True).check()
    form.get_by_label("Tôi cam kết").check()
    form.get_by_role("button", name="Gửi khai báo").click()

    page.wait_for_url("**/kiosk/qr")
    assert page.get_by_role("heading", name="Khai báo thành công").is_visible()
    assert page.locator(".qr-name").inner_text() == name
    assert page.locator(".kiosk-qr-image svg.qr").is_visible()
    assert page.get_by_role("link", name="In thẻ QR").is_visible()

    page.get_by_role("button", name="Xong").click()
    page.wait_for_url("**/kiosk")
    assert page.get_by_role("heading", name="Xin chào! Mời bạn khai báo").is_visible()

    page.go_back()  # the browser's Back button: the QR page is not shown again
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Xin chào! Mời bạn khai báo").is_visible()
    assert name not in page.content()
    assert not page.csp_errors


def test_idle_screen_counts_down_and_resets_to_welcome(kiosk_page):
    page = kiosk_page
    page.get_by_role("link", name="Khai báo y tế").click()
    page.get_by_role("link", name="Khai báo không cần số điện thoại").click()
    page.get_by_label("Họ và tên").fill("Người Bỏ Đi")
    # 60 s in real use; shortened here through the data attribute kiosk.js reads each tick
    page.evaluate("document.body.dataset.idleSeconds = '3'")
    countdown = page.locator("#kiosk-countdown")
    countdown.wait_for(state="visible", timeout=5000)
    assert "giây" in countdown.inner_text()
    page.wait_for_url("**/kiosk", timeout=10_000)
    assert page.get_by_role("heading", name="Xin chào! Mời bạn khai báo").is_visible()
    page.go_back()
    page.wait_for_load_state()
    assert page.locator("input[value='Người Bỏ Đi']").count() == 0
    assert not page.csp_errors
