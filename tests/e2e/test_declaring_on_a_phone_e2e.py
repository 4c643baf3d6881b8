"""Declaring on a phone (touch, vi-VN, 360×640 and 390×844): the BHYT fill box comes before
the fields it fills and fills where the person lives too; an arrival from inside the province
is refused with what to do instead; an arrival can be corrected or withdrawn."""

from __future__ import annotations

import pytest

from khaibao.demo.demo import BHYT_CSV
from tests.e2e.test_citizen_journey import sign_in

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
