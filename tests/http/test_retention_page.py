"""The deletion reports page: admins read every run's report and can run the purge now."""

from datetime import timedelta

from khaibao.tables import AuditEntry, CheckIn
from khaibao.venues import checkins, venues
from tests.helpers import csrf_headers, sign_in_officer
from tests.unit import citizen_factories as make
from tests.unit.test_venues import venue_form


async def test_an_admin_runs_the_purge_and_reads_its_report(client, settings):
    await sign_in_officer(client, "admin", name="Quản Trị Viên Xoá")
    venue = await venues.create(venues.parse_venue(venue_form()), settings)
    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    old = await checkins.check_in(venue.id, [person], settings,
                                  now=make.now() - timedelta(days=settings.retention_days + 1))
    page = await client.get("/quan-tri/xoa-du-lieu/")
    assert page.status_code == 200 and "Chạy xoá dữ liệu ngay" in page.text

    ran = await client.post("/quan-tri/xoa-du-lieu/chay", headers=csrf_headers(page.text),
                            follow_redirects=True)
    assert ran.status_code == 200
    assert "Đã chạy xoá dữ liệu" in ran.text and "Lượt check-in điểm đến" in ran.text
    assert not await CheckIn.exists().where(CheckIn.id == old[0].id)
    assert await AuditEntry.exists().where(AuditEntry.action == "retention.run")


async def test_only_admins_read_the_reports(client):
    await sign_in_officer(client, "health")
    assert (await client.get("/quan-tri/xoa-du-lieu/")).status_code == 403
