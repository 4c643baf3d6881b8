"""The citizen's health declaration in a real browser, as a new user would do it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import camera_browser, camera_video, decode_qr
from tests.helpers import random_mobile

TOKEN = re.compile(r"^KB1P[0-9A-Z]{27}$")


def new_phone() -> tuple[str, str]:
    """A random mobile number as typed by a person, and its E.164 form."""
    digits = random_mobile()
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}", "+84" + digits[1:]


def sign_in(page, live_server, button: str = "Khai báo y tế", start: str = "/kbyt") -> str:
    typed, e164 = new_phone()
    page.goto(start)
    page.get_by_label("Số điện thoại di động").fill(typed)
    page.get_by_role("button", name=button).click()
    code_field = page.get_by_label("Mã OTP")
    code_field.wait_for()
    code_field.fill(live_server.last_otp(e164))
    page.get_by_role("button", name="Xác thực").click()
    return e164


def fill_person(fieldset, *, name, id_type, id_number, birth_year, sex, ward=None):
    fieldset.get_by_label("Họ và tên").fill(name)
    fieldset.get_by_label("Loại giấy tờ").select_option(label=id_type)
    fieldset.get_by_label("Số CCCD/CMND").fill(id_number)
    fieldset.get_by_label("Năm sinh").fill(birth_year)
    fieldset.get_by_label(sex, exact=True).check()
    if ward:
        fieldset.get_by_label("Tỉnh / thành phố").select_option(label="Thành phố Huế")
        ward_select = fieldset.get_by_label("Phường / xã")
        ward_select.locator("option", has_text=ward).first.wait_for(state="attached")
        # The ward list was just swapped in: let htmx finish settling it, or the change
        # event can fire before htmx listens to the new select.
        fieldset.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
        ward_select.select_option(label=ward)
        fieldset.get_by_text(f"Đã chọn: {ward}").wait_for()



def declare_one(page, live_server, **person) -> str:
    """A new phone signs in and declares one person (``fill_person``'s fields); waits for the
    QR page. Returns the phone in E.164 form."""
    e164 = sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    fill_person(page.locator("#nguoi-moi-0"), **person)
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    return e164

def test_declare_for_self_and_child_and_get_two_qr_codes(page, live_server, tmp_path):
    phone = sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")

    owner = page.locator("#nguoi-moi-0")
    fill_person(owner, name="Hoàng Thị Lan", id_type="Căn cước công dân (CCCD)",
                id_number="046188012345", birth_year="1988", sex="Nữ", ward="Phường Thuận An")
    owner.get_by_label("Số nhà, đường, thôn/tổ").fill("12 Nguyễn Văn Linh")

    page.get_by_role("button", name="+ Khai hộ người thân").click()
    child = page.locator("#nguoi-moi-1")
    child.wait_for()
    fill_person(child, name="Trần Minh Khôi", id_type="Chưa có giấy tờ (trẻ em)",
                id_number="000000000", birth_year="2019", sex="Nam")

    page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill("Thành phố Huế")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()

    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    assert "Đã ghi nhận khai báo y tế của 2 người" in page.get_by_role("status").first.inner_text()
    cards = page.locator(".qr-card")
    assert cards.count() == 2
    assert "Hoàng Thị Lan" in cards.nth(0).inner_text()
    assert "046******345" in cards.nth(0).inner_text()
    assert "Trần Minh Khôi" in cards.nth(1).inner_text()

    for index in range(2):
        image = tmp_path / f"qr-{index}.png"
        cards.nth(index).locator(".qr-image svg").screenshot(path=str(image))
        token = decode_qr(image)
        assert TOKEN.match(token), token
        for personal in ("046188012345", "Lan", "Khôi", "1988", "2019", phone[3:], "Huế"):
            assert personal not in token
    assert page.csp_errors == []


def test_bad_cccd_is_explained_beside_the_field_and_nothing_is_saved(page, live_server):
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    owner = page.locator("#nguoi-moi-0")
    # 046 09x… is a man born in 1990: declared as a woman born in 1991 it cannot be right
    fill_person(owner, name="Lê Văn Tâm", id_type="Căn cước công dân (CCCD)",
                id_number="046090001111", birth_year="1991", sex="Nữ")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()

    error = page.locator("#p0_id_number-loi")
    error.wait_for()
    assert "năm sinh" in error.inner_text()
    assert page.locator("#p0_id_number").get_attribute("aria-invalid") == "true"
    owner = page.locator("#nguoi-moi-0")
    assert owner.get_by_label("Họ và tên").input_value() == "Lê Văn Tâm"  # input kept
    assert owner.get_by_label("Năm sinh").input_value() == "1991"
    assert page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").is_checked()
    assert page.csp_errors == []
    page.goto("/qr")
    assert page.locator(".qr-card").count() == 0  # nothing saved


def test_lookup_shows_the_persons_of_the_phone(page, live_server):
    declare_one(page, live_server, name="Võ Thị Hoa", id_type="Chứng minh nhân dân (CMND)",
                id_number="191555666", birth_year="1975", sex="Nữ")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/")

    page.goto("/qr")  # signed out: asked to verify the phone again
    page.wait_for_url(re.compile(r".*/kbyt\?tiep=/qr"))


@pytest.fixture
def chip_camera(playwright_instance, live_server, tmp_path):
    chip_text = ("046090001234|191234567|Nguyễn Văn An|15031990|Nam|"
                 "Thôn Đông, Phường Thuận An, Thành phố Huế|20042021")
    video = camera_video(tmp_path, "chip", chip_text)
    browser = camera_browser(playwright_instance, video)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  permissions=["camera"])
    yield context.new_page()
    context.close()
    browser.close()


def test_scan_chip_cccd_fills_the_form(chip_camera, live_server):
    page = chip_camera
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    owner = page.locator("#nguoi-moi-0")
    owner.get_by_text("Quét CCCD gắn chip để điền nhanh").click()
    owner.get_by_role("button", name="Bật camera, quét mã QR trên thẻ CCCD").click()
    page.get_by_text("Đã điền thông tin từ thẻ CCCD").wait_for(timeout=15_000)
    owner = page.locator("#nguoi-moi-0")
    assert owner.get_by_label("Họ và tên").input_value() == "Nguyễn Văn An"
    assert owner.get_by_label("Số CCCD/CMND").input_value() == "046090001234"
    assert owner.get_by_label("Năm sinh").input_value() == "1990"
    assert owner.get_by_label("Nam", exact=True).is_checked()
