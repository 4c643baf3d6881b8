"""One ID number from several phones, in Chromium: a third phone declares an ID two other
phones already declared and gets its QR as for any new ID; the officer typing the ID sees the
three phones' declarations, the differing names flagged; the phone's "Lần kiểm tra gần đây"
does not list that lookup by ID number. And a phone past its hourly declarations is told so
by the submit button."""

from __future__ import annotations

import random
import re

import pytest

from tests.e2e.conftest import (
    add_officer_cookie,
    run_setup,
    save_failure_screenshot,
    start_server,
    stop_server,
)
from tests.e2e.test_citizen_journey import fill_person, sign_in

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Cán bộ Tra Cứu", "checkpoint")
    for name, phone in (("Võ Thị Lan", sys.argv[2]), ("Kẻ Mạo Danh", sys.argv[3])):
        await make_person(settings, name, sys.argv[1], phone="+84905" + phone, sex="female",
                          declared=True)
    return {"session": session}
"""


def test_third_phone_declares_a_shared_id_and_the_officer_sees_all(browser, live_server,
                                                                  request):
    number = "046190" + f"{random.randrange(10**6):06d}"
    phones = random.sample(range(10**6), 2)
    made = run_setup(live_server, SETUP, number, *(f"{p:06d}" for p in phones))
    citizen = browser.new_context(base_url=live_server.url, locale="vi-VN")
    officer = browser.new_context(base_url=live_server.url, locale="vi-VN")
    phone, desk = citizen.new_page(), officer.new_page()
    try:
        sign_in(phone, live_server)
        phone.wait_for_url("**/kbyt/khai-bao")
        fill_person(phone.locator("#nguoi-moi-0"), name="Võ Thị Lan",
                    id_type="Căn cước công dân (CCCD)", id_number=number, birth_year="1990",
                    sex="Nữ")
        phone.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill("Huế")
        phone.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
        phone.get_by_role("button", name="Gửi khai báo").click()
        phone.wait_for_url(re.compile(r".*/qr\?ref=.*"))
        assert phone.locator(".qr-card").count() == 1
        assert "Kẻ Mạo Danh" not in phone.text_content("main")

        add_officer_cookie(officer, live_server, made["session"])
        desk.goto("/kiemtra/")
        desk.fill("#q", number)
        desk.keyboard.press("Enter")
        desk.wait_for_selector("#ket-qua .check-declared")
        result = desk.text_content("#ket-qua")
        assert "Khai báo từ 3 số điện thoại" in result
        assert desk.locator("#ket-qua .check-declared li").count() == 3
        assert "Kẻ Mạo Danh" in result and "Võ Thị Lan" in result
        assert desk.is_visible("text=Các lần khai báo ghi tên khác nhau — hãy kiểm tra giấy tờ.")

        phone.goto("/qr")
        assert "Lần kiểm tra gần đây (0)" in " ".join(phone.text_content(".qr-checks").split())
    finally:
        save_failure_screenshot(request, phone)
        save_failure_screenshot(request, desk)
        citizen.close()
        officer.close()


def test_a_phone_past_its_hourly_declarations_sees_why_by_the_submit(browser, tmp_path,
                                                                    request):
    server = start_server(tmp_path, {"KHAIBAO_DECLARATIONS_PER_HOUR": "1"})
    context = browser.new_context(base_url=server.url, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in(page, server)
        page.wait_for_url("**/kbyt/khai-bao")
        fill_person(page.locator("#nguoi-moi-0"), name="Võ Văn Một",
                    id_type="Căn cước công dân (CCCD)",
                    id_number="046090" + f"{random.randrange(10**6):06d}", birth_year="1990",
                    sex="Nam")
        page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill("Huế")
        page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
        page.get_by_role("button", name="Gửi khai báo").click()
        page.wait_for_url(re.compile(r".*/qr\?ref=.*"))

        page.goto("/kbyt/khai-bao")
        page.get_by_label(re.compile("Võ Văn Một")).check()
        page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill("Đà Nẵng")
        page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
        page.get_by_role("button", name="Gửi khai báo").click()
        message = page.get_by_text("Số điện thoại này đã gửi quá nhiều khai báo trong một giờ")
        message.wait_for()
        assert re.search(r"Hãy gửi lại sau \d+ phút", message.text_content())
        # Just before the submit button, and what was typed is still there.
        assert page.evaluate("""() => {
            const error = [...document.querySelectorAll('.field-error')].find(
                e => e.textContent.includes('quá nhiều khai báo'));
            const submit = document.querySelector('#khai-bao button[type=submit].primary');
            return !!(error.compareDocumentPosition(submit)
                      & Node.DOCUMENT_POSITION_FOLLOWING);
        }""")
        assert page.get_by_label(
            "Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").input_value() == "Đà Nẵng"
    finally:
        save_failure_screenshot(request, page)
        context.close()
        stop_server(server)
