"""The one verdict at the door, on a 390×844 phone: a person held only by a venue point policy
(no arrival declared) is red at the checkpoint with the venue, its time window and the legal
basis in the banner, seen without scrolling; the venue staff's scanner shows the same person
red "Không vào — đề nghị liên hệ y tế", never a green "come in", and no medical reason.
Screenshots are kept with the test's output when it fails."""

from __future__ import annotations

import random

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SETUP = r"""
from datetime import timedelta
from khaibao.core import clock
from khaibao.policies import tracing_points
from khaibao.tables import Region
from khaibao.venues import checkins, venues

async def main(settings):
    _officer, checkpoint = await officer_session("Cán bộ Chốt Cửa", "checkpoint")
    staff, staff_cookie = await officer_session("Nhân Viên Cửa Chợ", "venue")
    ward = await Region.select(Region.code).where(
        (Region.kind == "ward") & Region.path.like(f"/VN/{settings.province_code}/%")
    ).order_by(Region.code).first()
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Điểm " + uuid.uuid4().hex[:6], "kind": "market",
         "region": ward["code"]}), settings)
    await venues.set_staff(venue.id, {staff.id})
    account, pid = await make_person(settings, "Hồ Thị Điểm", sys.argv[1], sex="female",
                                     declared=True)
    now = clock.now()
    start = (now - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    await checkins.check_in(venue.id, [pid], settings, now=start + timedelta(minutes=10))
    effective = (now - timedelta(minutes=5)).astimezone(clock.LOCAL_TIMEZONE)
    await tracing_points.create_point_policy(
        venue.id, start, start + timedelta(hours=1),
        {"measure": "centralised", "days": "14", "legal_reference": "QĐ 9/SYT",
         "effective_from": effective.strftime("%Y-%m-%dT%H:%M")}, created_by=None, now=now)
    view = await people.get_person(account, pid, settings)
    return {"checkpoint": checkpoint, "staff": staff_cookie, "venue": venue.id,
            "venue_name": venue.name, "token": view.token}
"""


@pytest.fixture(scope="module")
def held(live_server) -> dict:
    number = "046190" + f"{random.randrange(10**6):06d}"
    return run_setup(live_server, SETUP, number)


def _in_view(page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["y"] >= 0, selector
    assert box["y"] + box["height"] <= PHONE["height"], (selector, box)
    assert box["x"] + box["width"] <= PHONE["width"], (selector, box)


def test_a_point_policy_turns_the_check_red_with_its_venue_and_window(phone_page, live_server,
                                                                      held):
    page = phone_page
    add_officer_cookie(page.context, live_server, held["checkpoint"])
    page.goto("/kiemtra")
    page.locator("#q").fill(held["token"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua .check-name")
    assert page.locator("#ket-qua").get_attribute("data-colour") == "red"
    banner = page.locator("#ket-qua .check-banner-red")
    text = banner.inner_text()
    assert "Cách ly tập trung 14 ngày" in text
    assert held["venue_name"] in text and "Khung giờ" in text and "QĐ 9/SYT" in text
    _in_view(page, "#ket-qua .check-verdict")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(live_server.directory / "verdict-check-390.png"))
    assert not page.csp_errors


def test_the_venue_scanner_never_lets_the_held_person_in(phone_page, live_server, held):
    page = phone_page
    add_officer_cookie(page.context, live_server, held["staff"])
    page.goto(f"/diem-den/{held['venue']}/quet")
    page.locator("#q").fill(held["token"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua[data-colour]")
    result = page.locator("#ket-qua")
    assert result.get_attribute("data-colour") == "red"
    text = result.inner_text()
    assert "Không vào" in text and "liên hệ y tế" in text
    assert result.locator(".venue-result-name").inner_text() == "Điểm"  # the given name only
    assert "Hồ Thị Điểm" not in text
    for medical in ("Cách ly", "Khung giờ", "QĐ 9/SYT"):
        assert medical not in text, medical
    _in_view(page, "#ket-qua .venue-result-headline")
    page.screenshot(path=str(live_server.directory / "verdict-venue-390.png"))
    assert not page.csp_errors
