"""The officer's check page on a 412×915 phone: a compact officer bar (who and "Đăng xuất" on
one line, the menu one row that scrolls sideways), the field in the top 40% of the screen,
no sideways scrolling of the page, and a result that shows without scrolling; an empty
lookup shows only the field's error; the code printed under a QR, typed as printed, finds
the person. On a desktop the officer bar keeps its wrapped menu.
"""

from __future__ import annotations

import random

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup, save_failure_screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 412, "height": 915}
SETUP = r"""
async def main(settings):
    _officer, checkpoint = await officer_session("Cán bộ Điện Thoại", "checkpoint")
    _admin, admin = await officer_session("Quản Trị Điện Thoại", "admin")
    account, person_id = await make_person(settings, "Võ Thị Màn Hình", sys.argv[1],
                                           phone="+84905" + sys.argv[2], sex="female",
                                           declared=True)
    view = await people.get_person(account, person_id, settings)
    return {"checkpoint": checkpoint, "admin": admin, "token": view.token}
"""


@pytest.fixture(scope="module")
def made(live_server) -> dict[str, str]:
    number = "046190" + f"{random.randrange(10**6):06d}"
    return run_setup(live_server, SETUP, number, f"{random.randrange(10**6):06d}")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("role", ["checkpoint", "admin"])
def test_field_near_the_top_and_result_in_view(phone_page, live_server, made, role):
    page = phone_page
    add_officer_cookie(page.context, live_server, made[role])
    page.goto("/kiemtra")
    field = page.locator("#q").bounding_box()
    assert field["y"] <= 0.4 * PHONE["height"], field
    assert page.evaluate("window.scrollY") == 0
    _no_sideways_scroll(page)
    # the menu is one row that scrolls inside itself; "Đăng xuất" shares the name's line
    tops = page.eval_on_selector_all(".officer-menu li", "items => items.map(i => i.offsetTop)")
    assert len(set(tops)) == 1
    menu = page.locator(".officer-menu")
    assert menu.evaluate("m => getComputedStyle(m).overflowX") == "auto"
    who = page.locator(".officer-who").bounding_box()
    sign_out = page.get_by_role("button", name="Đăng xuất").bounding_box()
    assert sign_out["y"] < who["y"] + who["height"] and sign_out["x"] > who["x"] + who["width"]
    assert sign_out["x"] + sign_out["width"] <= PHONE["width"]

    page.locator("#q").fill(made["token"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")
    verdict = page.locator("#ket-qua .check-verdict").bounding_box()
    assert verdict["y"] + verdict["height"] <= PHONE["height"]  # seen without scrolling
    assert page.evaluate("window.scrollY") == 0
    _no_sideways_scroll(page)
    assert not page.csp_errors


def test_current_page_is_scrolled_into_the_menu_row(phone_page, live_server, made):
    page = phone_page
    add_officer_cookie(page.context, live_server, made["admin"])
    page.goto("/can-bo/passkey")  # the last item of an admin's long menu
    current = page.locator(".officer-menu [aria-current=page]")
    page.wait_for_function(
        "() => document.querySelector('.officer-menu').scrollLeft > 0")
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _no_sideways_scroll(page)


def test_empty_lookup_and_a_code_typed_as_printed(phone_page, live_server, made):
    page = phone_page
    add_officer_cookie(page.context, live_server, made["checkpoint"])
    page.goto("/kiemtra")
    page.locator("#q").fill("   ")
    page.keyboard.press("Enter")
    page.wait_for_selector("#q-loi")
    assert page.inner_html("#ket-qua").strip() == ""
    assert page.locator("#ket-qua .message-error").count() == 0
    assert page.get_attribute("#ket-qua", "data-colour") is None

    token = made["token"]
    printed = " ".join(token[i:i + 4] for i in range(0, len(token), 4)).lower()
    page.locator("#q").fill(printed)
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")
    assert page.text_content("#ket-qua .check-name") == "Võ Thị Màn Hình"
    pass_button = page.get_by_role("button", name="Ghi nhận đã kiểm tra")
    colours = pass_button.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    look_up = page.get_by_role("button", name="Tra cứu").evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert colours == look_up


def test_desktop_keeps_the_wrapped_menu(browser, live_server, made, request):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN",
                                  viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        add_officer_cookie(context, live_server, made["admin"])
        page.goto("/kiemtra")
        menu = page.locator(".officer-menu")
        assert menu.evaluate("m => getComputedStyle(m).flexWrap") == "wrap"
        assert menu.evaluate("m => getComputedStyle(m).overflowX") == "visible"
        tops = page.eval_on_selector_all(".officer-menu li", "items => items.map(i => i.offsetTop)")
        assert len(set(tops)) > 1  # an admin's many items wrap onto several lines
        sign_out = page.get_by_role("button", name="Đăng xuất").bounding_box()
        assert sign_out["x"] > menu.bounding_box()["x"]  # to the right of the menu, as before
    finally:
        save_failure_screenshot(request, page)
        context.close()
