"""A health official traces a venue and a time window in Chromium and sees who overlapped."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import add_officer_cookie, run_setup

SETUP = """
from datetime import UTC, datetime, timedelta
from khaibao.venues import checkins, venues
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.tables import Region

async def main(settings):
    _officer, session = await officer_session("Bác sĩ Trần Truy", "health")
    ward = await Region.select(Region.code).where(  # venues lie in the province
        (Region.kind == "ward") & Region.path.like(f"/VN/{settings.province_code}/%")).first()
    venue = await venues.create(venues.parse_venue(
        {"name": "Chợ Đông Ba", "kind": "market", "region": ward["code"]}), settings)
    t = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    for name, start, end in (("Nguyễn Văn Gặp", t + timedelta(minutes=30), None),
                             ("Lê Thị Vắng", t + timedelta(hours=5), None)):
        _account, pid = await make_person(settings, name, f"046090{random.randrange(10**6):06d}")
        await checkins.check_in(venue.id, [pid], settings, now=start)
    fmt = "%Y-%m-%dT%H:%M"
    return {"session": session, "venue": venue.id,
            "from": t.astimezone(LOCAL_TIMEZONE).strftime(fmt),
            "to": (t + timedelta(hours=1)).astimezone(LOCAL_TIMEZONE).strftime(fmt)}
"""


def test_a_health_official_traces_a_venue_window(page, live_server):
    made = run_setup(live_server, SETUP)
    add_officer_cookie(page.context, live_server, made["session"])
    page.goto("/quan-tri/truy-vet/")
    expect(page.get_by_role("heading", name="Truy vết tiếp xúc")).to_be_visible()

    page.get_by_role("combobox", name="Điểm đến").select_option(str(made["venue"]))
    page.get_by_label("Từ (giờ Việt Nam)").fill(made["from"])
    page.get_by_label("Đến (giờ Việt Nam)").fill(made["to"])
    page.locator("#venue-ly_do").fill("Ca bệnh F0 đã đến chợ trong khung giờ này")
    page.get_by_role("button", name="Truy vết theo điểm đến").click()

    results = page.locator("#trace-results")
    expect(results.get_by_role("cell", name="Nguyễn Văn Gặp")).to_be_visible()
    expect(results.locator(".trace-minutes")).to_have_text(["30"])
    expect(results).not_to_contain_text("Lê Thị Vắng")
    expect(results).to_contain_text("tự kết thúc")
    expect(results.get_by_role("button", name="Tải về tệp CSV")).to_be_visible()
    expect(page.locator("#venue-ly_do")).to_have_value("Ca bệnh F0 đã đến chợ trong khung giờ này")
    assert page.csp_errors == []
