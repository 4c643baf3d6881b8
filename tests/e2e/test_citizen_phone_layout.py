"""What a citizen sees first on a phone (touch, vi-VN, 360×640 and 390×844): right after
declaring, the first QR is whole on the screen without scrolling — at the door the phone is
held out the moment the page opens."""

from __future__ import annotations

import random

import pytest

from tests.e2e.test_citizen_journey import declare_one, sign_in

pytestmark = pytest.mark.e2e


def test_the_first_qr_is_whole_on_screen_right_after_declaring(phone, live_server):
    declare_one(phone, live_server, name="Phan Thị Hoa", id_type="Chứng minh nhân dân (CMND)",
                id_number=f"19{random.randrange(10**7):07d}", birth_year="1990", sex="Nữ")
    assert phone.get_by_text("Khai báo thành công").is_visible()
    qr = phone.locator(".qr-card .qr-image svg").first.bounding_box()
    height = phone.viewport_size["height"]
    assert qr["y"] >= 0 and qr["y"] + qr["height"] <= height, (qr, height)
    # Whose QR it is, above it: a family's phone holds several.
    name = phone.locator(".qr-card .qr-name").first
    assert name.inner_text() == "Phan Thị Hoa"
    assert 0 <= name.bounding_box()["y"] < qr["y"]
    # Nothing runs off the side.
    assert phone.evaluate("document.documentElement.scrollWidth") <= phone.viewport_size["width"]


def test_the_chip_scanner_loads_when_its_box_is_opened(phone, live_server):
    """The declaration form's first load leaves the camera scanner out (mobile data); opening
    "Quét CCCD gắn chip để điền nhanh" loads it and its camera button works."""
    sign_in(phone, live_server)
    phone.wait_for_url("**/kbyt/khai-bao")
    loaded = ("() => performance.getEntriesByType('resource')"
              ".some(r => r.name.includes('/js/scanner.js'))")
    assert not phone.evaluate(loaded)
    phone.get_by_text("Quét CCCD gắn chip để điền nhanh").first.click()
    phone.wait_for_function("() => !!window.KhaiBaoScanner")
    bound = phone.evaluate("() => !!window.KhaiBaoScanner.get("
                           "document.querySelector('[data-chip-scan]'))")
    assert bound
    assert phone.get_by_role("button", name="Bật camera, quét mã QR trên thẻ CCCD").is_visible()
    assert phone.csp_errors == []
