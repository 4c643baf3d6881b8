"""The officer's check at the door on a phone (issue 19, items 12 and 16–20), in Chromium at
360×640 and 390×844 (touch, vi-VN):

- 12: the code printed under a QR, typed with O for 0 and I for 1, finds the person; the
  printed code's zeros are slashed;
- 16: on the camera page the verdict's colour and the name are on screen, without scrolling,
  the moment the result arrives, with the camera still in view;
- 17: a USB reader's second code, typed right after the first Enter, is looked up whole; the
  strip under the result keeps the last three (name and verdict);
- 18: digits that are no ID number stay in the field, and the error says what is wrong;
- 19: a chip-CCCD text contradicting its own number says which field, not "Đọc lỗi";
- 20: the A6 paper card prints on a 105 × 148 mm page.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    CHROMIUM,
    PHONES,
    add_officer_cookie,
    camera_browser,
    camera_video,
    run_setup,
    save_failure_screenshot,
    watch_csp,
)

pytestmark = pytest.mark.e2e

SETUP = r"""
async def main(settings):
    _officer, session = await officer_session("Cán bộ Cửa Vào", "checkpoint")
    made = {"session": session}
    for key, name, number, sex in (("a", "Nguyễn Thị Hoa", sys.argv[1], "female"),
                                   ("b", "Trần Văn Bảo", sys.argv[2], "male"),
                                   ("c", "Lê Minh Châu", sys.argv[3], "male")):
        account, person_id = await make_person(settings, name, number, sex=sex,
                                               declared=key != "c")
        view = await people.get_person(account, person_id, settings)
        made[key] = {"token": view.token, "id": person_id, "name": name, "cccd": number}
    return made
"""


@pytest.fixture(scope="module")
def made(live_server) -> dict:
    numbers = [f"046{digit}90{random.randrange(10**6):06d}" for digit in "100"]
    return run_setup(live_server, SETUP, *numbers)


def _phone_context(browser, live_server, made, phone):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport=phone,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    add_officer_cookie(context, live_server, made["session"])
    return context


@pytest.fixture(params=PHONES, ids=lambda p: f"{p['width']}x{p['height']}")
def door_page(browser, live_server, made, request):
    context = _phone_context(browser, live_server, made, request.param)
    page = watch_csp(context.new_page())
    page.phone = request.param
    yield page
    save_failure_screenshot(request, page)
    context.close()


def _on_screen(page, selector: str) -> dict:
    """The element's box, asserted to lie fully inside the phone's screen as it is now."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.phone["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.phone["width"], (selector, box)
    return box


# --- 12 ---------------------------------------------------------------------------------------

def test_code_typed_with_o_for_zero_and_i_for_one_finds_the_person(door_page, made):
    page = door_page
    page.goto("/kiemtra")
    token = made["a"]["token"]
    printed = " ".join(token[i:i + 4] for i in range(0, len(token), 4))
    typed = printed[:3].replace("1", "I") + printed[3] + printed[4:].replace("0", "O").replace(
        "1", "l")
    assert typed.startswith("KBIP")  # the version "1" is always there to misread
    page.locator("#q").fill(typed)
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")
    assert page.text_content("#ket-qua .check-name") == made["a"]["name"]
    assert not page.csp_errors


# --- 16 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", PHONES, ids=lambda p: f"{p['width']}x{p['height']}")
def test_camera_verdict_and_name_on_screen_when_it_arrives(playwright_instance, live_server,
                                                          made, tmp_path, request, phone):
    if not Path(CHROMIUM).exists() or shutil.which("ffmpeg") is None:
        pytest.skip("needs Chromium and ffmpeg")
    browser = camera_browser(playwright_instance,
                             camera_video(tmp_path, "qr", made["a"]["token"]))
    context = _phone_context(browser, live_server, made, phone)
    page = watch_csp(context.new_page())
    page.phone = phone
    try:
        page.goto("/kiemtra/quet")
        page.wait_for_selector("#may-quet.qr-scanner--ready")
        page.locator("#may-quet [data-qr-toggle]").tap()
        page.wait_for_selector("#ket-qua .check-name", timeout=15_000)
        assert page.evaluate("window.scrollY") == 0  # nobody scrolled
        assert page.evaluate("document.body.getAttribute('data-check-colour')") == "green"
        verdict = _on_screen(page, "#ket-qua .check-verdict")
        name = _on_screen(page, "#ket-qua .check-name")
        banner = page.locator("#ket-qua .check-banner").bounding_box()
        assert banner["y"] + 40 <= phone["height"]  # the colour shows as a band, not an edge
        assert verdict["y"] < name["y"]
        assert page.text_content("#ket-qua .check-name") == made["a"]["name"]
        # the camera stays in view for the next person
        video = page.locator("#may-quet video").bounding_box()
        assert video["height"] >= 120 and video["y"] >= 0 and video["y"] + 60 <= verdict["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= phone["width"]
        assert not page.csp_errors
    finally:
        save_failure_screenshot(request, page)
        context.close()
        browser.close()


# --- 17 ---------------------------------------------------------------------------------------

def test_usb_reader_second_code_right_after_enter_is_read_whole(door_page, made):
    page = door_page
    page.goto("/kiemtra")
    assert page.evaluate("document.activeElement.id") == "q"
    # A reader types a code and Enter; the next person's card follows within milliseconds,
    # typed while the first answer arrives.
    page.keyboard.type(made["a"]["token"])
    page.keyboard.press("Enter")
    page.keyboard.type(made["b"]["token"], delay=8)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "name => document.querySelector('#ket-qua .check-name')?.textContent === name",
        arg=made["b"]["name"], timeout=15_000)
    page.wait_for_function("() => document.querySelectorAll('#vua-kiem-tra li').length === 2")
    assert page.input_value("#q") == ""
    strip = page.locator("#vua-kiem-tra li")
    assert strip.nth(0).locator(".check-recent-name").text_content() == made["b"]["name"]
    assert strip.nth(1).locator(".check-recent-name").text_content() == made["a"]["name"]
    assert strip.nth(0).get_attribute("data-colour") == "green"
    assert strip.nth(0).locator(".check-recent-verdict").text_content() == "Được qua"

    for person in ("c", "a"):  # a family of four: the strip keeps the last three
        page.keyboard.type(made[person]["token"])
        page.keyboard.press("Enter")
        page.wait_for_function(
            "name => document.querySelector('#vua-kiem-tra li .check-recent-name')"
            "?.textContent === name", arg=made[person]["name"], timeout=15_000)
    names = strip.locator(".check-recent-name").all_text_contents()
    assert names == [made["a"]["name"], made["c"]["name"], made["b"]["name"]]
    colours = [strip.nth(i).get_attribute("data-colour") for i in range(3)]
    assert colours[0] == "green" and colours[1] != "green"  # c never declared
    # the strip reads on the phone: each row inside the screen's width, name and verdict
    # side by side or stacked, nothing cut
    width = page.phone["width"]
    for i in range(3):
        box = strip.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not page.csp_errors


# --- 18 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "says"), [
    ("04619012345", "Đã nhập “04619012345” (11 chữ số): CCCD có 12 số, CMND 9 số."),
    ("000000000", "Đã nhập “000000000”: số này dành cho người không có giấy tờ"),
])
def test_mistyped_id_stays_in_the_field_and_says_what_is_wrong(door_page, made, typed, says):
    page = door_page
    page.goto("/kiemtra")
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    page.wait_for_selector("#q-loi")
    assert says in page.text_content("#q-loi")
    assert "quét" not in page.text_content("#q-loi").split(".")[0]  # no scanner message first
    assert page.input_value("#q") == typed
    assert page.get_attribute("#q", "aria-invalid") == "true"
    assert page.locator("#ket-qua .message-error").count() == 0
    error = _on_screen(page, "#q-loi")
    field = page.locator("#q").bounding_box()
    assert field["y"] < error["y"] < field["y"] + field["height"] + 80  # right below the field
    # typing over it (the text is selected) looks the right number up
    page.keyboard.type(made["a"]["cccd"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")
    assert page.text_content("#ket-qua .check-name") == made["a"]["name"]
    assert page.locator("#q-loi").count() == 0
    assert page.get_attribute("#q", "aria-invalid") is None


# --- 19 ---------------------------------------------------------------------------------------

def test_chip_text_that_contradicts_its_number_says_which_field(door_page, made):
    page = door_page
    page.goto("/kiemtra")
    cccd = made["a"]["cccd"]  # a woman born in 1990
    for chip, says in (
        (f"{cccd}||NGUYEN THI HOA|01011991|Nữ|Huế|01012021",
         "ngày sinh ghi 01/01/1991, nhưng số CCCD"),
        (f"{cccd}||NGUYEN THI HOA|01011990|Nam|Huế|01012021",
         "giới tính ghi Nam, nhưng chữ số thứ 4 của số CCCD (1) dành cho Nữ"),
        (f"{cccd}||NGUYEN TH HOA|01011990|N|Hu|01012021",
         "máy đọc đã làm mất chữ có dấu"),
    ):
        page.locator("#q").fill(chip)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "says => document.querySelector('#ket-qua .check-message')?.textContent"
            ".includes(says)", arg=says, timeout=15_000)
        message = page.text_content("#ket-qua .check-message")
        assert "Đọc lỗi" not in message
        box = page.locator("#ket-qua .check-message").bounding_box()
        assert 0 <= box["y"] and box["y"] + 60 <= page.phone["height"]  # it starts on screen
    page.locator("#q").fill(f"{cccd}||NGUYEN THI HOA|01011990|Nữ|Huế|01012021")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")


# --- 20 ---------------------------------------------------------------------------------------

def test_paper_card_prints_on_an_a6_page(browser, live_server, made, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    add_officer_cookie(context, live_server, made["session"])
    page = context.new_page()
    try:
        page.goto(f"/kiemtra/the/{made['a']['id']}")
        code = page.locator(".paper-card-code-text")
        token = made["a"]["token"]
        assert code.text_content() == " ".join(token[i:i + 4] for i in range(0, 31, 4))
        assert code.evaluate("c => getComputedStyle(c).fontVariantNumeric") == "slashed-zero"
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(boxes) == 1, boxes  # one card, one sheet
        width, height = (float(v) * 25.4 / 72 for v in boxes[0])  # points → mm
        assert abs(width - 105) < 0.5 and abs(height - 148) < 0.5, (width, height)
    finally:
        save_failure_screenshot(request, page)
        context.close()
