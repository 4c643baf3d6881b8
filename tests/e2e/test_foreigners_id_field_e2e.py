"""A foreigner and the ID field at the door, on a phone (touch, 360×640 and 390×844), in
Vietnamese and, where the point is English, in English: what is on the screen."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONES, save_failure_screenshot, watch_csp
from tests.e2e.test_citizen_journey import fill_person, new_phone, sign_in

pytestmark = pytest.mark.e2e

LOCALES = {"vi": "vi-VN", "en": "en-US"}


def open_phone(browser, live_server, request, viewport, language):
    context = browser.new_context(base_url=live_server.url, locale=LOCALES[language],
                                  viewport=viewport, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = watch_csp(context.new_page())
    request.addfinalizer(context.close)
    request.addfinalizer(lambda: save_failure_screenshot(request, page))
    return page


@pytest.fixture(params=PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def phone(browser, live_server, request):
    return open_phone(browser, live_server, request, request.param, "vi")


@pytest.fixture(params=PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
def english_phone(browser, live_server, request):
    return open_phone(browser, live_server, request, request.param, "en")


def on_screen(page, locator) -> bool:
    """The element is visible and whole inside the viewport, as it is now scrolled."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (locator.is_visible() and box is not None and box["y"] >= 0
            and box["y"] + box["height"] <= size["height"] and box["x"] >= 0
            and box["x"] + box["width"] <= size["width"])


def sign_in_english(page, live_server, start: str) -> str:
    """A new phone signs in from an English page; returns its E.164 form."""
    typed, e164 = new_phone()
    page.goto(start)
    page.locator("#phone").fill(typed)
    page.locator("#xac-thuc button[type=submit]").first.click()
    page.locator("#code").wait_for()
    page.locator("#code").fill(live_server.last_otp(e164))
    page.locator("#xac-thuc button.primary").click()
    return e164


# --- 7: foreigners ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_foreign_number_is_pointed_to_a_checkpoint_or_kiosk(browser, live_server, request,
                                                              language):
    for viewport in PHONES:
        page = open_phone(browser, live_server, request, viewport, language)
        page.goto("/kbyt")
        page.locator("#phone").fill("+82 10 1234 5678")
        page.locator("#xac-thuc button[type=submit]").first.click()
        error = page.locator("#phone-loi")
        error.wait_for()
        text = error.inner_text()
        if language == "vi":
            assert "chỉ gửi được đến số di động Việt Nam" in text
            assert "chốt kiểm soát" in text and "kiosk" in text
            assert "không hợp lệ" not in text
        else:
            assert "only be sent to a Vietnamese mobile" in text
            assert "checkpoint" in text and "kiosk" in text
        error.scroll_into_view_if_needed()
        assert on_screen(page, error), (viewport, error.bounding_box())
        assert page.locator("#phone").input_value() == "+82 10 1234 5678"  # kept
        # Said before anyone tries, too: under the field.
        hint = page.locator("#phone-goi-y").inner_text()
        assert ("kiosk" in hint) and (("chốt kiểm soát" in hint) if language == "vi"
                                      else ("checkpoint" in hint))
        assert page.csp_errors == []


def test_the_otp_sms_is_english_when_the_page_is(english_phone, live_server):
    e164 = sign_in_english(english_phone, live_server, "/kbyt")
    text = live_server.sms_messages(e164)[-1]["text"]
    assert text.startswith("Your Khai Bao OTP is "), text
    assert "Ma OTP" not in text and text.isascii()
    english_phone.wait_for_url("**/kbyt/khai-bao")


def test_the_otp_sms_stays_vietnamese_without_diacritics_on_a_vietnamese_page(phone,
                                                                              live_server):
    e164 = sign_in(phone, live_server)
    text = live_server.sms_messages(e164)[-1]["text"]
    assert text.startswith("Ma OTP Khai Bao cua ban la "), text
    assert text.isascii()


def test_an_english_arrival_from_korea_names_korea_in_english_without_the_vietnam_picker(
        english_phone, live_server):
    page = english_phone
    sign_in_english(page, live_server, "/khaibao")
    page.wait_for_url("**/khaibao/khai-bao")
    person = page.locator("#nguoi-moi-0")
    person.locator("input[name$='_full_name']").fill("Kim Min Jun")
    person.locator("select[name$='_id_type']").select_option("passport")
    id_label = person.locator("label[for='p0_id_number']")
    assert id_label.inner_text().startswith("Passport number")
    person.locator("input[name$='_id_number']").fill(f"M{random.randrange(10**8):08d}")
    person.locator("input[name$='_birth_year']").fill("1988")
    person.locator("input[name$='_sex'][value='male']").check()
    person.locator("select[name$='_nationality']").select_option("KR")

    country = page.locator("select[name='origin_country']")
    assert "Hàn Quốc" not in page.locator("main").inner_text()
    assert "South Korea" in country.inner_text()
    origin_province = page.locator("#origin_region-province")
    assert origin_province.is_visible()
    country.select_option("KR")
    assert not origin_province.is_visible()  # only for a trip from inside Việt Nam
    country.select_option("VN")
    assert origin_province.is_visible()
    country.select_option("KR")
    assert not origin_province.is_visible()

    today = datetime.now()
    page.locator("#departure_date").fill((today - timedelta(days=1)).strftime("%Y-%m-%d"))
    page.locator("#arrival_at").fill(today.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#transport").select_option("plane")
    page.locator("#vehicle_number").fill("KE 465")
    ward = page.locator("#destination_region-ward")
    ward.locator("option", has_text="Phường Thuận An").first.wait_for(state="attached")
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    ward.select_option(label="Phường Thuận An")
    expect(page.locator("input[type=hidden][name='destination_region']")).not_to_have_value("")
    page.locator("#khai-bao-den button[type=submit]").last.click()

    page.wait_for_url(re.compile(r".*/khaibao/tra-cuu\?ref=.*"))
    text = page.locator("main").inner_text()
    assert "Kim Min Jun" in text
    assert "South Korea" in text and "Hàn Quốc" not in text
    assert page.csp_errors == []


def test_the_id_label_follows_passport_and_survives_a_refused_submit(phone, live_server):
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    person = phone.locator("#nguoi-moi-0")
    label = person.locator("label[for='p0_id_number']")
    assert label.inner_text().startswith("Số CCCD/CMND")
    person.get_by_label("Loại giấy tờ").select_option(label="Hộ chiếu")
    assert label.inner_text().startswith("Số hộ chiếu")
    assert person.get_by_label("Số hộ chiếu").count() == 1
    person.get_by_label("Số hộ chiếu").fill("C1234567")
    # Sent without a name: the page comes back with the error and the same label.
    phone.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    phone.get_by_role("button", name="Gửi khai báo").click()
    phone.locator("#p0_full_name-loi").wait_for()
    label = phone.locator("label[for='p0_id_number']")
    assert label.inner_text().startswith("Số hộ chiếu")
    assert phone.locator("#p0_id_number").input_value() == "C1234567"
    phone.locator("#p0_id_type").select_option(label="Căn cước công dân (CCCD)")
    assert label.inner_text().startswith("Số CCCD/CMND")
    assert phone.csp_errors == []


# --- 9: the ID field ---------------------------------------------------------------------


def test_the_id_number_shows_its_required_mark(phone, live_server):
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    label = phone.locator("label[for='p0_id_number']")
    mark = label.locator(".required")
    assert mark.inner_text() == "*"
    label.scroll_into_view_if_needed()
    assert on_screen(phone, mark)
    # Like every other required field of the person.
    for field in ("p0_full_name", "p0_id_type", "p0_birth_year"):
        assert phone.locator(f"label[for='{field}'] .required").inner_text() == "*"


def test_a_cccd_with_dashes_is_accepted_like_a_cmnd_with_spaces(phone, live_server):
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    year = random.randrange(1950, 2000)
    cccd = f"046{'1'}{year % 100:02d}{random.randrange(10**6):06d}"  # a woman born in `year`
    dashed = f"{cccd[:3]}-{cccd[3:6]}-{cccd[6:9]}-{cccd[9:]}"
    fill_person(phone.locator("#nguoi-moi-0"), name="Ngô Thị Thu",
                id_type="Căn cước công dân (CCCD)", id_number=dashed, birth_year=str(year),
                sex="Nữ")
    phone.get_by_role("button", name="+ Khai hộ người thân").click()
    other = phone.locator("#nguoi-moi-1")
    other.wait_for()
    cmnd = f"19{random.randrange(10**7):07d}"
    fill_person(other, name="Ngô Văn Bình", id_type="Chứng minh nhân dân (CMND)",
                id_number=f"{cmnd[:3]} {cmnd[3:6]} {cmnd[6:]}", birth_year="1962", sex="Nam")
    phone.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    phone.get_by_role("button", name="Gửi khai báo").click()
    phone.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    cards = phone.locator(".qr-card")
    assert cards.count() == 2
    assert f"{cccd[:3]}******{cccd[-3:]}" in cards.nth(0).inner_text()
    assert phone.csp_errors == []


def test_no_id_document_is_refused_for_someone_born_in_1960(phone, live_server):
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    fill_person(phone.locator("#nguoi-moi-0"), name="Trần Văn Lộc",
                id_type="Chưa có giấy tờ (trẻ em)", id_number="000000000", birth_year="1960",
                sex="Nam")
    phone.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật").check()
    phone.get_by_role("button", name="Gửi khai báo").click()
    error = phone.locator("#p0_id_number-loi")
    error.wait_for()
    assert "dưới 14 tuổi" in error.inner_text() and "1960" in error.inner_text()
    assert phone.locator("#p0_id_number").get_attribute("aria-invalid") == "true"
    error.scroll_into_view_if_needed()
    field = phone.locator("#p0_id_number")
    assert on_screen(phone, error) and on_screen(phone, field)
    # Right below its own field.
    assert 0 <= error.bounding_box()["y"] - field.bounding_box()["y"] < 200
    assert phone.locator("#p0_full_name").input_value() == "Trần Văn Lộc"  # input kept
    assert phone.csp_errors == []
