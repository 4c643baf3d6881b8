"""The ward official's arrivals list (/quan-tri/nguoi-den) on a phone: each arrival is a card
as wide as the screen, the current requirement ("Yêu cầu hiện tại") right under the name and
inside the screen's width, and the requirement at arrival ("Khi đến") beside it when it
differs; no sideways scrolling. It used to be a 718 px table on a 390 px phone, the result
column off-screen. On a desktop it stays a table."""

from __future__ import annotations

import random

import pytest

from tests.e2e.conftest import add_officer_cookie, run_setup

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SETUP = r"""
from datetime import timedelta
from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.core import clock
from khaibao.policies import tracing_points
from khaibao.regions import regions
from khaibao.venues import checkins, venues

async def main(settings):
    wards = [w for w in await regions.children(settings.province_code) if w.kind == "ward"]
    ward = wards[len(wards) // 2]
    _officer, local = await officer_session("Cán bộ Phường Điện Thoại", "local",
                                            region_code=ward.code)
    account, pid = await make_person(settings, "Nguyễn Thị Thanh Hương Giang", sys.argv[1],
                                     sex="female", declared=True)
    origin = [w for w in await regions.children("VN-01") if w.kind == "ward"][2]
    now = clock.now()
    arrived = now.astimezone(clock.LOCAL_TIMEZONE) - timedelta(hours=2)
    trip = TripData(departure_date=arrived.date() - timedelta(days=1), arrival_at=arrived,
                    transport="bus", destination_region_code=ward.code,
                    origin_region_code=origin.code, vehicle_number="75B-123.45",
                    destination_detail="Kiệt 15 đường Nguyễn Sinh Cung, tổ dân phố 7")
    done = await arrivals.submit(account, person_ids=[pid], new_persons=[], trip=trip,
                                 client_ref=uuid.uuid4().hex, settings=settings,
                                 province_code=settings.province_code,
                                 province_name="Huế")
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Thẻ " + uuid.uuid4().hex[:6], "kind": "market",
         "region": ward.code}), settings)
    start = (now - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    await checkins.check_in(venue.id, [pid], settings, now=start + timedelta(minutes=10))
    effective = (now - timedelta(minutes=5)).astimezone(clock.LOCAL_TIMEZONE)
    await tracing_points.create_point_policy(
        venue.id, start, start + timedelta(hours=1),
        {"measure": "home", "days": "14", "legal_reference": "QĐ 21/SYT",
         "effective_from": effective.strftime("%Y-%m-%dT%H:%M")}, created_by=None, now=now)
    return {"local": local, "arrival": done.arrival_ids[0]}
"""


@pytest.fixture(scope="module")
def listed(live_server) -> dict:
    number = "046190" + f"{random.randrange(10**6):06d}"
    return run_setup(live_server, SETUP, number)


def _inside_width(page, selector: str, width: int) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box, width)
    return box


@pytest.mark.parametrize("size", [{"width": 360, "height": 640}, PHONE])
def test_each_arrival_is_a_card_with_its_requirement_in_view(phone_page, live_server, listed,
                                                             size):
    page = phone_page
    page.set_viewport_size(size)
    add_officer_cookie(page.context, live_server, listed["local"])
    page.goto("/quan-tri/nguoi-den")
    card = f"#den-{listed['arrival']}"
    page.wait_for_selector(card)
    width = size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _inside_width(page, card, width)
    now = _inside_width(page, f"{card} .requirement-now", width)
    then = _inside_width(page, f"{card} .requirement-then", width)
    name = _inside_width(page, f"{card} .arrival-person", width)
    origin = page.locator(f"{card} td[data-label]").first.bounding_box()
    # name, then the requirement now, then at arrival, then the trip
    assert name["y"] < now["y"] < then["y"] < origin["y"]
    text = page.locator(f"{card} .requirement-now").inner_text()
    assert "Yêu cầu hiện tại: Không được qua" in text and "Cách ly tại nhà 14 ngày" in text
    assert "Khi đến: Không áp dụng biện pháp" in page.locator(
        f"{card} .requirement-then").inner_text()
    assert page.locator(card).get_attribute("data-colour") == "red"
    # the header row is hidden: each cell names its column
    assert not page.locator(".arrivals-table thead").is_visible() or page.locator(
        ".arrivals-table thead").bounding_box()["height"] <= 1
    assert page.locator(f"{card} td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content").startswith('"Nơi đi')
    page.screenshot(path=str(live_server.directory / f"arrivals-{width}.png"), full_page=True)
    assert not page.csp_errors


def test_on_a_desktop_the_list_stays_a_table(phone_page, live_server, listed):
    page = phone_page
    page.set_viewport_size({"width": 1280, "height": 800})
    add_officer_cookie(page.context, live_server, listed["local"])
    page.goto("/quan-tri/nguoi-den")
    card = f"#den-{listed['arrival']}"
    page.wait_for_selector(card)
    assert page.locator(card).evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert page.locator(".arrivals-table thead").is_visible()
    assert not page.csp_errors
