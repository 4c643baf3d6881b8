"""The officers' acceptance journey in Chromium, as new users would do it: the first admin
enrolls a passkey from the `create-admin` link, creates a checkpoint officer who enrolls too;
a citizen declares; the officer finds the citizen by the camera, by a typed token + Enter,
and by the chip-CCCD text — each time a green result without a page load."""

from __future__ import annotations

import random
import re

from playwright.sync_api import expect

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    camera_video,
    decode_qr,
    save_failure_screenshot,
)
from tests.e2e.test_citizen_journey import fill_person, sign_in

AUTHENTICATOR = {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}
CITIZEN = "Nguyễn Thị Hồng Nhung"


def add_virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})


def enroll_passkey(page, url: str, name: str, role: str) -> None:
    page.goto(url)
    expect(page.get_by_text(name)).to_be_visible()
    expect(page.get_by_text(role).first).to_be_visible()
    page.get_by_role("button", name="Tạo passkey").click()
    home = "/quan-tri/tong-quan" if role == "Quản trị viên" else "/kiemtra"
    page.wait_for_url(re.compile(home + "$"))


def citizen_declares(browser, live_server, tmp_path, number: str) -> str:
    """A citizen declares on their phone; returns the token in their QR (as zbar reads it)."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.wait_for_url("**/kbyt/khai-bao")
        fill_person(page.locator("#nguoi-moi-0"), name=CITIZEN, id_type="Căn cước công dân (CCCD)",
                    id_number=number, birth_year="1988", sex="Nữ")
        page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill("Huế")
        page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
        page.get_by_role("button", name="Gửi khai báo").click()
        page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
        image = tmp_path / "citizen-qr.png"
        page.locator(".qr-card .qr-image svg").first.screenshot(path=str(image))
        return decode_qr(image)
    finally:
        context.close()


def expect_green_result(page) -> None:
    page.wait_for_selector("#ket-qua .check-name", timeout=15_000)
    expect(page.locator("#ket-qua .check-name")).to_have_text(CITIZEN)
    expect(page.locator("#ket-qua .check-banner-green")).to_be_visible()
    assert page.evaluate("window.__samePage") is True  # the result came without a page load


def test_admin_enrolls_creates_an_officer_who_scans_a_citizen(
        browser, playwright_instance, live_server, tmp_path, request):
    number = f"0461{88}{random.randrange(10**6):06d}"
    token = citizen_declares(browser, live_server, tmp_path, number)

    # The first admin: a one-time link from the command line, a passkey, no password.
    admin_context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    admin = admin_context.new_page()
    add_virtual_authenticator(admin)
    url = live_server.khaibao("create-admin", "--name", "Trần Thị Bình").stdout.strip()
    enroll_passkey(admin, url.splitlines()[-1], "Trần Thị Bình", "Quản trị viên")

    # The admin creates a checkpoint officer and reads the one-time enrollment link.
    admin.goto("/quan-tri/can-bo")
    admin.get_by_label("Họ và tên").fill("Lê Văn Chốt")
    admin.get_by_label("Vai trò").select_option(label="Cán bộ chốt kiểm soát")
    admin.get_by_role("button", name="Tạo cán bộ và cấp liên kết đăng ký").click()
    link = admin.locator("#enrollment-url")
    link.wait_for()
    officer_url = link.input_value()
    assert officer_url.startswith(live_server.url + "/can-bo/dang-ky/")
    admin_context.close()

    # The officer's phone: its own browser, whose camera sees the citizen's QR.
    video = camera_video(tmp_path, "citizen", token)
    officer_browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    context = officer_browser.new_context(base_url=live_server.url, locale="vi-VN")
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    try:
        add_virtual_authenticator(page)
        enroll_passkey(page, officer_url, "Lê Văn Chốt", "Cán bộ chốt kiểm soát")

        # The camera scanner.
        page.goto("/kiemtra/quet")
        page.wait_for_selector("#may-quet.qr-scanner--ready")
        page.evaluate("window.__samePage = true")
        page.click("#may-quet [data-qr-toggle]")
        expect_green_result(page)

        # A USB reader types the token and Enter into the check page's one field.
        page.goto("/kiemtra")
        page.evaluate("window.__samePage = true")
        field = page.get_by_label("Số CCCD/CMND hoặc mã QR")
        expect(field).to_be_focused()
        field.type(token)
        field.press("Enter")
        expect_green_result(page)
        expect(field).to_have_value("")
        expect(field).to_be_focused()

        # The chip-CCCD card's QR text finds the same person; the card's name is shown.
        page.evaluate("window.__samePage = true")
        chip = f"{number}||{CITIZEN}|15031988|Nữ|Thôn Đông, Phường Thuận An|20042021"
        field.fill(chip)
        field.press("Enter")
        expect_green_result(page)
        expect(page.locator("#ket-qua")).to_contain_text("Tên trên thẻ CCCD")
        assert csp_errors == []
    finally:
        save_failure_screenshot(request, page)
        context.close()
        officer_browser.close()
