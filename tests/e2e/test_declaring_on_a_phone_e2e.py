"""Declaring on a phone (touch, vi-VN, 360×640 and 390×844): the BHYT fill box comes before
the fields it fills and fills where the person lives too; an arrival from inside the province
is refused with what to do instead; an arrival can be corrected or withdrawn."""

from __future__ import annotations

import random
import re

import pytest

from khaibao.demo.demo import BHYT_CSV
from tests.e2e.test_arrival_journey import choose_region, fill_bus_trip
from tests.e2e.test_citizen_journey import fill_person, sign_in

pytestmark = pytest.mark.e2e

@pytest.fixture(scope="module")
def demo_registry(live_server):
    """The demo's BHYT registry, as ``khaibao demo`` loads it."""
    live_server.khaibao("import-insurance", str(BHYT_CSV))


def test_bhyt_box_comes_first_and_fills_the_address_and_region(phone, live_server,
                                                                demo_registry):
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    person = phone.locator("#nguoi-moi-0")
    card = person.get_by_label("Số thẻ bảo hiểm y tế (nếu có)")
    # Above every field it fills, first in the fieldset.
    filled_fields = [person.get_by_label("Họ và tên"), person.get_by_label("Năm sinh"),
                     person.get_by_label("Số nhà, đường, thôn/tổ")]
    card_y = card.bounding_box()["y"]
    assert all(card_y < field.bounding_box()["y"] for field in filled_fields)
    assert card_y < person.locator("summary", has_text="Quét CCCD").bounding_box()["y"]

    card.fill("GD4464600000001")
    person.get_by_role("button", name="Điền từ thẻ BHYT").click()
    person = phone.locator("#nguoi-moi-0")
    person.get_by_text("Đã điền họ tên, năm sinh, giới tính và nơi ở từ thẻ BHYT").wait_for()
    assert person.get_by_label("Họ và tên").input_value() == "Nguyễn Thị Hoa"
    assert person.get_by_label("Năm sinh").input_value() == "1962"
    assert person.get_by_label("Nữ", exact=True).is_checked()
    assert person.get_by_label("Số nhà, đường, thôn/tổ").input_value() == "25 Nguyễn Văn Linh"
    assert person.get_by_text("Đã chọn: Phường Thuận An").is_visible()
    # The notice that says what was filled is on screen where the person looks.
    notice = person.locator(".message-ok").bounding_box()
    assert notice["x"] >= 0 and notice["x"] + notice["width"] <= phone.viewport_size["width"]
    assert phone.csp_errors == []


def declare_bus_trip(phone, live_server, *, name: str, id_number: str,
                     origin: tuple[str, str]) -> None:
    """A new phone declares one person's bus trip from ``origin`` (province, ward) arriving
    now into Phường Thuận An, and sends it."""
    sign_in(phone, live_server, button="Khai báo về Huế", start="/khaibao")
    phone.wait_for_url("**/khaibao/khai-bao")
    fill_person(phone.locator("#nguoi-moi-0"), name=name, id_type="Căn cước công dân (CCCD)",
                id_number=id_number, birth_year="1995", sex="Nam")
    choose_region(phone.locator("#origin_region-picker"),
                  ("Tỉnh / thành phố", origin[0]), ("Phường / xã", origin[1]))
    fill_bus_trip(phone, "75B-111.11")
    phone.get_by_role("button", name="Gửi khai báo").click()


def on_screen(phone, locator) -> bool:
    box = locator.bounding_box()
    size = phone.viewport_size
    return (box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
            and 0 <= box["y"] < size["height"])


def test_an_arrival_from_inside_the_province_says_what_to_do(phone, live_server):
    declare_bus_trip(phone, live_server, name="Trần Văn Bài",
                     id_number=f"0460950{random.randrange(10**5):05d}",
                     origin=("Thành phố Huế", "Phường Phú Bài"))
    error = phone.locator("#origin_region-picker .field-error")
    error.wait_for()
    assert "Nơi đi ở trong Huế" in error.inner_text()
    assert "Khai báo y tế" in error.inner_text()
    assert phone.url.endswith("/khaibao/khai-bao")  # nothing was declared
    error.scroll_into_view_if_needed()
    assert on_screen(phone, error)
    assert phone.csp_errors == []


def test_correct_then_withdraw_an_arrival_from_the_lookup(phone, live_server):
    declare_bus_trip(phone, live_server, name="Đỗ Văn Sửa",
                     id_number=f"0010950{random.randrange(10**5):05d}",
                     origin=("Thành phố Hà Nội", "Phường Hoàn Kiếm"))
    phone.wait_for_url(re.compile(r".*/khaibao/tra-cuu\?ref=.*"))

    trip = phone.locator(".trips > li").first
    correct = trip.get_by_role("link", name="Sửa")
    withdraw = trip.get_by_role("link", name="Huỷ khai báo")
    for link in (correct, withdraw):  # whole on the phone's width
        link.scroll_into_view_if_needed()
        assert on_screen(phone, link)
    correct.click()
    phone.wait_for_url("**/sua")
    vehicle = phone.get_by_label("Biển số xe hoặc số hiệu chuyến bay/tàu")
    assert vehicle.input_value() == "75B-111.11"
    assert phone.get_by_text("Đã chọn: Phường Hoàn Kiếm").is_visible()
    vehicle.fill("VN1545")
    phone.get_by_label("Phương tiện").select_option(label="Máy bay")
    phone.get_by_role("button", name="Lưu thay đổi").click()
    phone.wait_for_url("**/khaibao/tra-cuu?da=sua")
    assert phone.get_by_text("Đã lưu khai báo đã sửa.").is_visible()
    trips = phone.locator(".trips > li")
    assert trips.count() == 1  # corrected, not a second trip
    assert "VN1545" in trips.first.inner_text() and "75B-111.11" not in trips.first.inner_text()

    trips.first.get_by_role("link", name="Huỷ khai báo").click()
    phone.wait_for_url("**/huy")
    confirm = phone.get_by_role("button", name="Huỷ khai báo này")
    assert on_screen(phone, confirm)  # the confirm step, whole on screen
    assert "Đỗ Văn Sửa" in phone.locator("main").inner_text()
    confirm.click()
    phone.wait_for_url("**/khaibao/tra-cuu?da=huy")
    assert phone.get_by_text("Đã huỷ khai báo về Huế.").is_visible()
    assert phone.locator(".trips > li").count() == 0
    assert phone.csp_errors == []
