"""Người đến địa bàn over HTTP: scope (403 outside the officer's area), filters, the CSV
(BOM, formula injection through a real arrival, headers) and the audit entries."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta

import pytest

from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.citizens import people
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.regions import regions
from khaibao.tables import AuditEntry
from tests.helpers import sign_in_officer
from tests.unit.citizen_factories import account, add_person, person_fields

HUE = "VN-46"
VN = LOCAL_TIMEZONE


@pytest.fixture
async def wards(database):
    return [w for w in await regions.children(HUE) if w.kind == "ward"][8:10]


async def arrive(settings, ward, *, detail: str, name: str, hours_ago: int = 2) -> int:
    account_id = await account()
    await add_person(account_id, settings, person_fields(full_name=name), is_owner=True)
    owner = (await people.persons_of(account_id, settings))[0]
    hanoi = (await regions.children("VN-01"))[0]
    at = datetime.now(VN) - timedelta(hours=hours_ago)
    trip = TripData(departure_date=at.date() - timedelta(days=1), arrival_at=at,
                    transport="bus", destination_region_code=ward.code,
                    origin_region_code=hanoi.code, destination_detail=detail)
    result = await arrivals.submit(account_id, person_ids=[owner.id], new_persons=[], trip=trip,
                                   client_ref=uuid.uuid4().hex, settings=settings,
                                   province_code=HUE, province_name="Huế")
    return result.arrival_ids[0]


async def last_audit(action: str, officer_id: int) -> dict:
    row = await AuditEntry.select().where(
        (AuditEntry.action == action) & (AuditEntry.actor_id == officer_id)).order_by(
        AuditEntry.id, ascending=False).first()
    assert row is not None, action
    return json.loads(row["detail"])


async def test_local_official_sees_own_ward_and_is_refused_another(client, database, wards):
    ward_a, ward_b = wards
    await arrive(database, ward_a, detail="Kiệt 3 Lê Lợi", name="Hồ Thị Sen")
    await arrive(database, ward_b, detail="Thôn Bắc", name="Phan Văn Bưởi")
    officer = await sign_in_officer(client, "local", region_code=ward_a.code)
    page = await client.get("/quan-tri/nguoi-den")
    assert page.status_code == 200
    assert "Hồ Thị Sen" in page.text and "Kiệt 3 Lê Lợi" in page.text
    assert "Phan Văn Bưởi" not in page.text
    assert "Tải về tệp CSV" in page.text
    detail = await last_audit("arrivals.view", officer.id)
    assert detail["region"] == ward_a.code and detail["rows"] >= 1

    refused = await client.get("/quan-tri/nguoi-den", params={"region": ward_b.code})
    assert refused.status_code == 403
    assert "Bạn không có quyền xem địa bàn này." in refused.text
    assert "Phan Văn Bưởi" not in refused.text
    province = await client.get("/quan-tri/nguoi-den", params={"region": HUE})
    assert province.status_code == 403
    export = await client.get("/quan-tri/nguoi-den/xuat.csv", params={"region": ward_b.code})
    assert export.status_code == 403 and "Phan Văn Bưởi" not in export.text


async def test_roles_without_the_permission_are_refused(client, database):
    await sign_in_officer(client, "checkpoint")
    assert (await client.get("/quan-tri/nguoi-den")).status_code == 403


async def test_admin_chooses_any_area_and_filters(client, database, wards):
    ward_a, _ward_b = wards
    await arrive(database, ward_a, detail="Đội 4", name="Ngô Thị Đào")
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/nguoi-den")  # default: the province
    assert page.status_code == 200 and "Ngô Thị Đào" in page.text
    assert 'id="region-picker"' in page.text
    picked = await client.get("/quan-tri/nguoi-den", params={
        "region_province": HUE, "region_ward": ward_a.code, "region": ward_a.code})
    assert "Ngô Thị Đào" in picked.text and ward_a.name in picked.text
    filtered = await client.get("/quan-tri/nguoi-den", params={
        "region": ward_a.code, "ket_qua": "quarantine"})
    assert filtered.status_code == 200 and "Ngô Thị Đào" not in filtered.text
    old = (datetime.now(VN) - timedelta(days=40)).date().isoformat()
    past = await client.get("/quan-tri/nguoi-den", params={
        "region": ward_a.code, "tu": old, "den": old})
    assert "Ngô Thị Đào" not in past.text
    bad = await client.get("/quan-tri/nguoi-den", params={"tu": "2026-11-20",
                                                           "den": "2026-11-01"})
    assert bad.status_code == 422
    assert "“Đến ngày” phải từ “Từ ngày” trở đi." in bad.text


async def test_csv_export_is_safe_and_audited(client, database, wards):
    ward_a, _ward_b = wards
    await arrive(database, ward_a, detail='=HYPERLINK("http://x")', name="Lý Văn Đông")
    officer = await sign_in_officer(client, "local", region_code=ward_a.code)
    today = datetime.now(VN).date()
    start = (today - timedelta(days=13)).isoformat()
    response = await client.get("/quan-tri/nguoi-den/xuat.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="nguoi-den-{ward_a.code}-{start}-{today.isoformat()}.csv"')
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert table[0][0] == "Họ và tên" and "Kết quả" in table[0]
    row = next(r for r in table[1:] if r[0] == "Lý Văn Đông")
    address = row[table[0].index("Địa chỉ nơi đến")]
    assert address == "'=HYPERLINK(\"http://x\")"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in table for cell in r)
    assert row[table[0].index("Kết quả")] == "Không áp dụng biện pháp"
    detail = await last_audit("arrivals.export", officer.id)
    assert detail["region"] == ward_a.code and detail["rows"] == len(table) - 1
    assert detail["complete"] is True and detail["from"] == start
