"""The arrival declaration (Khai báo về Huế) in a real browser."""

import re
from datetime import datetime, timedelta

from tests.e2e.test_citizen_journey import fill_person, sign_in


def choose_region(picker, *selections):
    """Pick (label of the select, option text) pairs in a region picker, level by level."""
    for label, option in selections:
        select = picker.get_by_label(label, exact=True)
        select.locator("option", has_text=option).first.wait_for(state="attached")
        select.select_option(label=option)
        picker.get_by_text(f"Đã chọn: {option}").wait_for()


def fill_bus_trip(page, vehicle: str) -> None:
    """A bus trip that left yesterday, arriving now in Phường Thuận An."""
    today = datetime.now()
    page.get_by_label("Ngày khởi hành").fill((today - timedelta(days=1)).strftime("%Y-%m-%d"))
    page.get_by_label("Dự kiến đến lúc").fill(today.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Phương tiện").select_option(label="Xe khách")
    page.get_by_label("Biển số xe hoặc số hiệu chuyến bay/tàu").fill(vehicle)
    choose_region(page.locator("#destination_region-picker"),
                  ("Phường / xã", "Phường Thuận An"))


def test_declare_an_arrival_and_find_it_in_the_lookup(page, live_server):
    page.goto("/khaibao")
    assert page.get_by_role("heading", level=1).inner_text() == "Khai báo về Huế"
    sign_in(page, live_server, button="Khai báo về Huế", start="/khaibao")
    page.wait_for_url("**/khaibao/khai-bao")

    fill_person(page.locator("#nguoi-moi-0"), name="Đỗ Quang Vinh",
                id_type="Căn cước công dân (CCCD)", id_number="001095123456",
                birth_year="1995", sex="Nam")
    choose_region(page.locator("#origin_region-picker"),
                  ("Tỉnh / thành phố", "Thành phố Hà Nội"), ("Phường / xã", "Phường Hoàn Kiếm"))
    fill_bus_trip(page, "29B-123.45")
    page.get_by_label("Mục đích chuyến đi").fill("Thăm gia đình")
    page.get_by_role("button", name="Gửi khai báo").click()

    page.wait_for_url(re.compile(r".*/khaibao/tra-cuu\?ref=.*"))
    text = page.locator("main").inner_text()
    assert "Khai báo thành công" in text
    assert "Đỗ Quang Vinh" in text
    assert "Phường Hoàn Kiếm" in text and "Phường Thuận An" in text
    assert page.csp_errors == []
