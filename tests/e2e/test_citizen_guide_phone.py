"""The citizen guide (/huong-dan/nguoi-dan) on a phone (touch, vi-VN, 360×640 and 390×844):
its screenshots are phone screens, so the words in them are readable at the phone's width —
not 1280 px desktop pages shrunk to a third."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_citizen_guide_screenshots_are_phone_screens_filling_the_column(phone):
    phone.goto("/huong-dan/nguoi-dan")
    width = phone.viewport_size["width"]
    images = phone.locator("img.guide-shot")
    assert images.count() >= 3  # the home page, the health and the arrival declaration
    column = phone.locator("article.guide").bounding_box()["width"]
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()  # the pictures load lazily
        phone.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                                arg=image.element_handle())
        natural = phone.evaluate("(img) => img.naturalWidth", image.element_handle())
        # a phone screenshot (at most two image pixels per screen pixel), not a desktop one
        assert natural <= 2 * width, (image.get_attribute("src"), natural)
        box = image.bounding_box()
        # shown at the column's width: at most 360 CSS px of the phone's screen in about as
        # many CSS px here, so its text is about the size it is in the app
        assert box["width"] >= 0.85 * min(column, 360), (box, column)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    assert phone.csp_errors == []
