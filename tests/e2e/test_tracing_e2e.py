"""A health official traces a venue and a time window in Chromium and sees who overlapped."""

from __future__ import annotations

import json
import subprocess
import sys

from playwright.sync_api import expect

# Run in a separate interpreter against the live server's database (see test_policy_admin).
SETUP = """
import asyncio, json, random
from datetime import UTC, datetime, timedelta
from khaibao import checkins, db, officers, people, venues
from khaibao.policy_input import LOCAL_TZ
from khaibao.settings import Settings
from khaibao.tables import Region

def person_form(name):
    return people.parse_person({
        "full_name": name, "id_type": "cccd",
        "id_number": f"046090{random.randrange(10**6):06d}", "birth_year": "1990",
        "sex": "male", "nationality": "VN", "region": "", "address_detail": "", "bhyt": ""})

async def main():
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        officer = await officers.create("Bác sĩ Trần Truy", "health")
        session = await officers.start_session(officer.id)
        ward = await Region.select(Region.code).where(Region.kind == "ward").first()
        venue = await venues.create(venues.parse_venue(
            {"name": "Chợ Đông Ba", "kind": "market", "region": ward["code"]}), settings)
        t = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        for name, start, end in (("Nguyễn Văn Gặp", t + timedelta(minutes=30), None),
                                 ("Lê Thị Vắng", t + timedelta(hours=5), None)):
            account = await people.account_for_phone(f"+84905{random.randrange(10**6):06d}")
            async with db.write_transaction():
                pid = await people.create_person(account, person_form(name), settings,
                                                 is_owner=True, channel="self")
            await checkins.check_in(venue.id, [pid], settings, now=start)
        fmt = "%Y-%m-%dT%H:%M"
        print(json.dumps({"session": session, "venue": venue.id,
                          "from": t.astimezone(LOCAL_TZ).strftime(fmt),
                          "to": (t + timedelta(hours=1)).astimezone(LOCAL_TZ).strftime(fmt)}))
    finally:
        await db.disconnect()

asyncio.run(main())
"""


def test_a_health_official_traces_a_venue_window(page, live_server):
    made = json.loads(subprocess.run(
        [sys.executable, "-c", SETUP], env=live_server.env, cwd=live_server.directory,
        capture_output=True, text=True, timeout=60, check=True).stdout.strip().splitlines()[-1])
    page.context.add_cookies([{"name": "khaibao_officer", "value": made["session"],
                               "url": live_server.url}])
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
