"""Dashboard and CSV exports over HTTP: a ward official sees and exports only their ward
(403 for another), the CSV neutralises formulas, every export is audited."""

from __future__ import annotations

import csv
import io
import json

from khaibao.tables import AuditEntry, Person
from tests.helpers import sign_in_officer
from tests.unit import dashboard_factories


async def _audit(officer_id: int, action: str) -> dict:
    row = await AuditEntry.select().where(
        (AuditEntry.action == action) & (AuditEntry.actor_id == officer_id)).order_by(
        AuditEntry.id, ascending=False).first().run()
    assert row is not None
    return json.loads(row["detail"])


async def test_ward_official_dashboard_is_limited_to_the_ward(client, database):
    area = await dashboard_factories.area(per_ward=30)
    await sign_in_officer(client, "local", region_code=area.ward_a)
    page = await client.get("/quan-tri/tong-quan?ngay=7")
    assert page.status_code == 200
    assert 'class="stat-declarations">30<' in page.text
    assert 'class="stat-arrivals">5<' in page.text
    assert "<svg" in page.text and 'role="img"' in page.text
    assert "Khai báo y tế theo ngày" in page.text
    assert "region_province" not in page.text  # no picker for a scoped official
    refused = await client.get(f"/quan-tri/tong-quan?region={area.ward_b}")
    assert refused.status_code == 403
    assert "Bạn không có quyền xem địa bàn này" in refused.text
    wider = await client.get(f"/quan-tri/tong-quan?region={area.province}")
    assert wider.status_code == 403


async def test_admin_chooses_any_area_and_sees_otp(client, database):
    area = await dashboard_factories.area(per_ward=12)
    await sign_in_officer(client, "admin")
    page = await client.get(f"/quan-tri/tong-quan?region={area.province}&ngay=30")
    assert page.status_code == 200
    assert 'class="stat-declarations">24<' in page.text
    everything = await client.get("/quan-tri/tong-quan")
    assert "Mã OTP đã gửi và bị khoá" in everything.text
    assert (await client.get("/quan-tri/tong-quan?region=NOPE")).status_code == 404


async def test_roles_without_permission_are_refused(client, database):
    await sign_in_officer(client, "checkpoint")
    assert (await client.get("/quan-tri/tong-quan")).status_code == 403
    assert (await client.get("/quan-tri/xuat-du-lieu")).status_code == 403
    client.cookies.clear()
    await sign_in_officer(client, "health")  # numbers yes, rows of people no
    assert (await client.get("/quan-tri/tong-quan")).status_code == 200
    assert (await client.get("/quan-tri/xuat-du-lieu/tai-ve")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/quan-tri/xuat-du-lieu")).status_code == 401


async def test_export_is_scoped_neutralised_and_audited(client, database):
    area = await dashboard_factories.area(per_ward=25)
    # a person of ward A whose name is a spreadsheet formula
    evil = '=HYPERLINK("http://x","y")'
    await Person.update({Person.full_name: evil}).where(
        Person.no_id_key.is_in([r["no_id_key"] for r in await Person.select(
            Person.no_id_key).where(Person.region.code == area.ward_a).run()])).run()
    officer = await sign_in_officer(client, "local", region_code=area.ward_a)
    response = await client.get("/quan-tri/xuat-du-lieu/tai-ve?loai=health_declaration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Mã" and len(rows) == 1 + 25
    names = {row[4] for row in rows[1:]}
    assert names == {"'" + evil}  # neutralised: opens as text
    detail = await _audit(officer.id, "data.export")
    assert detail["rows"] == 25 and detail["complete"] is True
    assert detail["region"] == area.ward_a and detail["kind"] == "health_declaration"

    arrivals = await client.get("/quan-tri/xuat-du-lieu/tai-ve?loai=arrival")
    assert len(arrivals.content.decode("utf-8-sig").strip().splitlines()) == 1 + 5
    checkins = await client.get("/quan-tri/xuat-du-lieu/tai-ve?loai=check_in")
    assert len(checkins.content.decode("utf-8-sig").strip().splitlines()) == 1 + 20

    other = await client.get(f"/quan-tri/xuat-du-lieu/tai-ve?region={area.ward_b}")
    assert other.status_code == 403
    assert "text/csv" not in other.headers["content-type"]
    bad = await client.get("/quan-tri/xuat-du-lieu/tai-ve?tu=2026-05-02&den=2026-05-01")
    assert bad.status_code == 422


async def test_admin_exports_a_province(client, database):
    area = await dashboard_factories.area(per_ward=7)
    officer = await sign_in_officer(client, "admin")
    form = await client.get("/quan-tri/xuat-du-lieu")
    assert form.status_code == 200 and "Loại dữ liệu" in form.text
    response = await client.get(f"/quan-tri/xuat-du-lieu/tai-ve?region={area.province}")
    assert len(response.content.decode("utf-8-sig").strip().splitlines()) == 1 + 14
    assert (await _audit(officer.id, "data.export"))["rows"] == 14
