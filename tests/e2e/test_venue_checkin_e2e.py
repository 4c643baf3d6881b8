"""Issue #6's acceptance in Chromium, as new users would do it: an officer prints a venue's
poster and downloads its QR (zbar reads the /v/… URL); a citizen opens that URL, verifies the
phone, declares two persons, checks both in and checks one out; the citizen scanner (/quet)
pointed at the poster lands on the venue's check-in page.

The officer and the venue are made in the live server's database by a small script (there is
no CLI for sessions); the officer's session cookie is then put into the browser.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    add_officer_cookie,
    camera_browser,
    decode_qr,
    picture_video,
    run_setup,
    save_failure_screenshot,
)
from tests.e2e.test_citizen_journey import declare_one, fill_person, sign_in

pytestmark = pytest.mark.e2e

SETUP = r"""
from khaibao.venues import venues

async def main(settings):
    _officer, session = await officer_session("Quản trị Áp Phích", "admin")
    venue = await venues.create(venues.VenueInput(
        name="Chợ Đông Ba", kind="market", address="2 Trần Hưng Đạo"), settings)
    return {"session": session, "venue_id": venue.id, "url": venue.poster_url(settings)}
"""

CSS_PX_PER_CM = 96 / 2.54


@pytest.fixture(scope="module")
def made(live_server) -> dict:
    return run_setup(live_server, SETUP)


@pytest.fixture(scope="module")
def poster_png(browser, live_server, made, tmp_path_factory) -> Path:
    """The officer's part: the poster's print view, then the PNG download."""
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  accept_downloads=True)
    add_officer_cookie(context, live_server, made["session"])
    page = context.new_page()
    try:
        page.goto(f"/ap-phich/diem-den/{made['venue_id']}")
        assert page.get_by_role("heading", name="Chợ Đông Ba").is_visible()
        assert page.get_by_text("Mở camera hoặc ứng dụng Khai Báo, quét mã để check-in.")\
            .is_visible()
        page.emulate_media(media="print")
        assert not page.get_by_role("button", name="In áp phích").is_visible()
        box = page.locator(".poster-qr-box svg").bounding_box()
        assert box["width"] >= 15 * CSS_PX_PER_CM  # ≥ 15 cm on paper
        pdf = page.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 sheet
        page.emulate_media(media="screen")
        with page.expect_download() as download:
            page.get_by_role("link", name="Tải mã QR (PNG)").click()
        path = tmp_path_factory.mktemp("poster") / "poster.png"
        download.value.save_as(path)
        return path
    finally:
        context.close()


def test_poster_qr_decodes_to_the_venue_url(poster_png, made, live_server):
    url = decode_qr(poster_png)
    assert url == made["url"]
    assert re.fullmatch(re.escape(live_server.url) + r"/v/KB1V[0-9A-Z]{27}", url)


OFFICER = """
async def main(settings):
    _officer, session = await officer_session("Cán bộ Chốt Đông Ba", "checkpoint")
    return {"session": session}
"""


def test_citizen_checks_in_two_and_checks_out_one(page, poster_png, live_server, tmp_path):
    url = decode_qr(poster_png)
    code = url.rsplit("/", 1)[1]
    page.goto(url)
    page.wait_for_url(re.compile(rf".*/kbyt\?tiep=/v/{code}$"))
    sign_in(page, live_server, button="Tiếp tục để check-in", start=page.url)
    # nobody declared on this phone yet: declare first, then back to the venue
    page.wait_for_url(re.compile(rf".*/kbyt/khai-bao\?tiep=/v/{code}$"))
    fill_person(page.locator("#nguoi-moi-0"), name="Hoàng Thị Lan",
                id_type="Chứng minh nhân dân (CMND)", id_number="191555777",
                birth_year="1988", sex="Nữ")
    page.get_by_role("button", name="+ Khai hộ người thân").click()
    child = page.locator("#nguoi-moi-1")
    child.wait_for()
    fill_person(child, name="Trần Minh Khôi", id_type="Chưa có giấy tờ (trẻ em)",
                id_number="000000000", birth_year="2019", sex="Nam")
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(rf"^{live_server.url}/v/{code}$"))

    assert page.get_by_role("heading", name="Chợ Đông Ba").is_visible()
    assert page.get_by_label("Hoàng Thị Lan").is_checked()  # the owner, ticked by default
    page.get_by_label("Trần Minh Khôi").check()
    page.get_by_role("button", name="Check-in", exact=True).click()
    page.wait_for_url(re.compile(rf"^{live_server.url}/v/{code}\?kq=moi$"))
    confirm = page.locator(".checkin-confirm")
    text = confirm.inner_text()
    assert "Đã check-in" in text and "Chợ Đông Ba" in text
    assert "Hoàng Thị Lan" in text and "Trần Minh Khôi" in text
    assert text.count("Đã check-in lúc") == 2

    checkout = page.locator("form[action$='/check-out']")
    checkout.get_by_label("Hoàng Thị Lan").uncheck()
    page.get_by_role("button", name="Check-out").click()
    page.wait_for_url(re.compile(rf"^{live_server.url}/v/{code}\?kq=ra$"))
    assert page.get_by_text("Đã check-out.").is_visible()
    text = page.locator(".checkin-confirm").inner_text()
    assert "Hoàng Thị Lan" in text and "Trần Minh Khôi" not in text
    assert page.csp_errors == []

    # At a checkpoint, the officer's result shows this venue as the last check-in.
    page.goto("/qr")
    image = tmp_path / "lan.png"
    page.locator(".qr-card", has_text="Hoàng Thị Lan").locator(".qr-image svg").screenshot(
        path=str(image))
    token = decode_qr(image)
    officer = page.context.browser.new_context(base_url=live_server.url, locale="vi-VN")
    add_officer_cookie(officer, live_server, run_setup(live_server, OFFICER)["session"])
    check = officer.new_page()
    check.goto("/kiemtra")
    field = check.get_by_label("Số CCCD/CMND hoặc mã QR")
    field.fill(token)
    field.press("Enter")
    check.wait_for_selector("#ket-qua .check-name")
    assert check.locator("#ket-qua .check-name").inner_text() == "Hoàng Thị Lan"
    assert "Chợ Đông Ba" in check.locator("#ket-qua").inner_text()
    officer.close()


def test_citizen_scanner_reads_the_poster(playwright_instance, live_server, poster_png,
                                          tmp_path, request):
    if shutil.which("ffmpeg") is None:
        pytest.skip("needs ffmpeg")
    url = decode_qr(poster_png)
    video = picture_video(poster_png, tmp_path / "poster.y4m")
    browser = camera_browser(playwright_instance, video)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  permissions=["camera"])
    page = context.new_page()
    try:
        declare_one(page, live_server, name="Võ Văn Tài", id_type="Chứng minh nhân dân (CMND)",
                    id_number="191888999", birth_year="1979", sex="Nam")

        page.goto("/")
        page.get_by_role("link", name=re.compile("Quét QR điểm đến")).click()
        page.wait_for_url("**/quet")
        page.get_by_role("button", name="Bật camera để quét").click()
        code = url.rsplit("/", 1)[1]
        page.wait_for_url(re.compile(rf"^{live_server.url}/v/{code}$"), timeout=15_000)
        assert page.get_by_role("heading", name="Chợ Đông Ba").is_visible()
        page.get_by_role("button", name="Check-in", exact=True).click()
        page.wait_for_url(re.compile(rf"^{live_server.url}/v/{code}\?kq=moi$"))
        assert "Võ Văn Tài" in page.locator(".checkin-confirm").inner_text()
    finally:
        save_failure_screenshot(request, page)
        context.close()
        browser.close()


def test_scanner_refuses_a_personal_code_typed_in(page, live_server):
    page.goto("/quet")
    page.get_by_label("Hoặc nhập mã / đường dẫn in dưới mã QR").fill(
        "https://khaibao.example.org/v/KB1V0000000000000000000000000000")
    page.get_by_role("button", name="Mở trang check-in").click()
    error = page.locator("#ma-quet-loi")
    error.wait_for()
    assert "Mã QR này không phải của hệ thống Khai Báo" in error.inner_text()
    assert page.url.endswith("/quet")
    assert page.csp_errors == []
