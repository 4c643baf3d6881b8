"""The venue's scanner in Chromium: venue staff scan a citizen's QR with the (fake) camera and
see a green result with the given name; a chip-CCCD text typed into the field + Enter (as a
USB reader does) checks the person in too; a typed ID number shows only the given name and the
masked ID, its stay is marked as typed, and typing too many is refused with a clear message.
The officer, venue and persons are made directly in the live server's database (a separate
process, so this test's own database stays bound)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import (
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
from khaibao.venues import venues

async def main(settings):
    officer, raw = await officer_session("Nhân Viên Chợ Đông Ba", "venue")
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Tây Lộc", "kind": "market", "daily_visitors": "300"}), settings)
    await venues.set_staff(venue.id, {officer.id})
    made = {}
    for key, name, number in (("camera", "Nguyễn Văn An", "046090001234"),
                              ("chip", "Trần Thị Bình", "046191005678"),
                              ("typed", "Lê Văn Cường", "046085004321"),
                              ("card", "Phan Thị Dung", "046188007788"),
                              ("next", "Võ Văn Em", "046092003344")):
        account, pid = await make_person(
            settings, name, number, phone=f"+8490{uuid.uuid4().int % 10**7:07d}",
            birth_year="19" + number[4:6], sex="male" if number[3] == "0" else "female",
            declared=True)
        made[key] = {"id": pid, "token": (await people.get_person(account, pid, settings)).token,
                     "number": number, "name": name, "given": name.split()[-1]}
    return {"cookie": raw, "venue": venue.id, "persons": made}
"""


@pytest.fixture(scope="module")
def setup(live_server):
    return run_setup(live_server, SETUP)


def checkins_of(live_server, person_id: int) -> list[tuple]:
    with sqlite3.connect(Path(live_server.directory) / "e2e.sqlite3") as connection:
        return connection.execute(
            "SELECT venue, by_kind FROM check_in WHERE person = ?", (person_id,)).fetchall()


@pytest.fixture
def scanner_page(playwright_instance, live_server, setup, tmp_path, request):
    video = camera_video(tmp_path, "token", setup["persons"]["camera"]["token"])
    browser = camera_browser(playwright_instance, video)
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  permissions=["camera"])
    add_officer_cookie(context, live_server, setup["cookie"])
    page = watch_csp(context.new_page())
    yield page
    save_failure_screenshot(request, page)
    context.close()
    browser.close()


def stays_of(live_server, person_id: int) -> list[tuple]:
    """(venue, by_kind, checked out?) of each stay of the person, oldest first."""
    with sqlite3.connect(Path(live_server.directory) / "e2e.sqlite3") as connection:
        return connection.execute(
            "SELECT venue, by_kind, checked_out_at IS NOT NULL FROM check_in WHERE person = ? "
            "ORDER BY id", (person_id,)).fetchall()


def test_camera_scan_and_typed_chip_cccd_check_people_in(scanner_page, live_server, setup):
    page = scanner_page
    venue_id = setup["venue"]
    camera, chip = setup["persons"]["camera"], setup["persons"]["chip"]
    page.goto("/quan-tri/diem-den")
    page.get_by_role("link", name="Máy quét").click()
    page.wait_for_url(f"**/diem-den/{venue_id}/quet")
    assert page.get_by_label("Mã QR cá nhân, mã trên thẻ CCCD hoặc số giấy tờ").evaluate(
        "el => el === document.activeElement")  # ready for a USB reader

    page.get_by_role("button", name="Bật camera để quét").click()
    result = page.locator("#ket-qua")
    result.locator(".venue-result-name").get_by_text(camera["given"], exact=True).wait_for(
        timeout=15_000)
    assert camera["name"] not in result.inner_text()  # the given name only
    assert result.get_attribute("data-colour") == "green"
    assert "Đã check-in" in result.inner_text()
    assert "046090001234" not in result.inner_text()  # masked ID only
    assert checkins_of(live_server, camera["id"]) == [(venue_id, "staff")]
    page.wait_for_timeout(1000)  # the code stays in view: no second check-in, no new result
    assert len(checkins_of(live_server, camera["id"])) == 1
    page.get_by_role("button", name="Tắt camera").click()

    field = page.get_by_label("Mã QR cá nhân, mã trên thẻ CCCD hoặc số giấy tờ")
    assert field.input_value() == ""
    field.fill(f"{chip['number']}||{chip['name']}|01011991|Nữ|Phường Thuận Hóa, Huế|01012021")
    field.press("Enter")
    result.locator(".venue-result-name").get_by_text(chip["given"], exact=True).wait_for(
        timeout=10_000)
    assert result.get_attribute("data-colour") == "green"
    assert checkins_of(live_server, chip["id"]) == [(venue_id, "staff")]
    # the field is cleared and focused again for the next person
    assert field.input_value() == ""
    assert field.evaluate("el => el === document.activeElement")

    field.fill("KB1PXXXXXXXXXXXXXXXXXXXXXXXXXX")
    field.press("Enter")
    page.get_by_text("Đọc lỗi, quét lại").wait_for(timeout=10_000)
    assert result.get_attribute("data-colour") == "red"

    page.goto(f"/diem-den/{venue_id}")
    assert page.locator("#hom-nay").inner_text() == "2"
    assert page.get_by_role("cell", name=chip["name"]).count() == 1
    assert page.locator("svg[role=img]").count() == 2
    assert page.csp_errors == []


def test_a_typed_id_number_is_marked_shows_no_birth_year_and_is_capped(scanner_page, live_server,
                                                                       setup):
    page = scanner_page
    venue_id, typed = setup["venue"], setup["persons"]["typed"]
    page.goto(f"/diem-den/{venue_id}/quet")
    field = page.get_by_label("Mã QR cá nhân, mã trên thẻ CCCD hoặc số giấy tờ")
    field.fill(typed["number"])
    field.press("Enter")
    result = page.locator("#ket-qua")
    result.locator(".venue-result-name").get_by_text(typed["given"], exact=True).wait_for(
        timeout=10_000)
    shown = result.inner_text()
    assert "Đã check-in" in shown and typed["name"] not in shown
    assert "1985" not in shown and "Năm sinh" not in shown and typed["number"] not in shown
    assert checkins_of(live_server, typed["id"]) == [(venue_id, "typed")]
    # ten typed numbers a minute (one spent above): the eleventh is refused, visibly
    for n in range(9):
        field.fill(f"04619000{n:04d}")
        field.press("Enter")
        page.wait_for_function("() => document.querySelector('#q').value === ''")
    field.fill("046190009999")
    field.press("Enter")
    refusal = page.locator("#q-loi")
    refusal.get_by_text("nhập số giấy tờ quá nhiều lần trong một phút").wait_for(timeout=10_000)
    assert "quét mã QR" in refusal.inner_text()
    assert page.csp_errors == []


@pytest.fixture(params=PHONES, ids=lambda p: f"{p['width']}x{p['height']}")
def phone_scanner(browser, live_server, setup, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  viewport=request.param, is_mobile=True, has_touch=True)
    add_officer_cookie(context, live_server, setup["cookie"])
    page = watch_csp(context.new_page())
    page.phone = request.param
    yield page
    save_failure_screenshot(request, page)
    context.close()


def test_a_usb_reader_s_next_code_typed_while_the_answer_comes_is_kept(phone_scanner,
                                                                      live_server, setup):
    """The field is emptied when a code is sent, not when its answer swaps in."""
    page = phone_scanner
    card, following = setup["persons"]["card"], setup["persons"]["next"]
    page.goto(f"/diem-den/{setup['venue']}/quet")
    page.locator("#q").focus()
    page.keyboard.type(card["token"])
    page.keyboard.press("Enter")
    page.keyboard.type(following["token"], delay=8)
    page.keyboard.press("Enter")
    page.locator("#ket-qua .venue-result-name").get_by_text(
        following["given"], exact=True).wait_for(timeout=15_000)
    assert page.input_value("#q") == ""
    assert (setup["venue"], "staff", 0) in stays_of(live_server, following["id"])
    assert (setup["venue"], "staff", 0) in stays_of(live_server, card["id"])
    assert page.csp_errors == []


def test_staff_check_a_paper_card_visitor_out(phone_scanner, live_server, setup):
    """Issue 19 item 22: the scanner's check-out mode ends the open stay of the person whose
    printed QR card is scanned at the way out, the mode and its button on the phone's screen."""
    page = phone_scanner
    card = setup["persons"]["card"]
    venue_id = setup["venue"]
    page.goto(f"/diem-den/{venue_id}/quet")
    field = page.get_by_label("Mã QR cá nhân, mã trên thẻ CCCD hoặc số giấy tờ")
    field.fill(card["token"])  # at the door: checked in
    field.press("Enter")
    page.locator("#ket-qua .venue-result-name").get_by_text(card["given"], exact=True).wait_for(
        timeout=10_000)
    assert any(stay[:2] == (venue_id, "staff") and not stay[2]
               for stay in stays_of(live_server, card["id"]))

    out = page.get_by_label("Check-out (người ra)")
    out.check()
    button = page.get_by_role("button", name="Check-out")
    assert button.is_visible() and not page.get_by_role("button", name="Check-in").is_visible()
    for locator in (out, button, field):
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.phone["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.phone["width"]

    field.fill(card["token"])
    field.press("Enter")
    result = page.locator("#ket-qua")
    result.get_by_text("Đã check-out lúc").wait_for(timeout=10_000)
    assert result.get_attribute("data-colour") == "green"
    assert card["given"] in result.inner_text()
    assert all(stay[2] for stay in stays_of(live_server, card["id"]))  # no open stay left
    headline = result.locator(".venue-result-headline").bounding_box()
    assert headline["y"] + headline["height"] <= page.phone["height"]  # no scrolling
    assert field.input_value() == ""
    assert page.get_by_label("Check-out (người ra)").is_checked()  # the mode stays

    field.fill(card["token"])  # nobody open any more: nothing recorded, and it says so
    field.press("Enter")
    result.get_by_text("Không có lượt check-in đang mở tại đây").wait_for(timeout=10_000)
    assert result.get_attribute("data-colour") == "yellow"

    page.get_by_label("Check-in (người vào)").check()
    field.fill(card["token"])
    field.press("Enter")
    result.get_by_text("Đã check-in").wait_for(timeout=10_000)
    assert not stays_of(live_server, card["id"])[-1][2]
    assert page.csp_errors == []
