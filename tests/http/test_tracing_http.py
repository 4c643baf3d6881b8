"""Truy vết over HTTP: only health officials and admins, the reason is required (error beside
the field, other inputs kept), every query and export audited, the CSV safe in spreadsheets,
and a point policy made from a venue result."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.policies import policies
from khaibao.tables import AuditEntry, Person, Region
from khaibao.venues import checkins, venues
from tests.helpers import csrf_from, sign_in_officer
from tests.unit import citizen_factories as make

BASE = "/quan-tri/truy-vet"
REASON = "Ca bệnh xác nhận đã ở chợ, cần liên hệ người tiếp xúc"
FORMULA = "=cmd|' /C calc'!A0"


def local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
async def scene(database, settings):
    """A market with two overlapping stays (one by a person whose name is a formula) and a
    touching one, two days ago."""
    t = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    # a ward of the deployment's province; a name of its own (one venue of a name per area)
    ward = await Region.select(Region.code).where(
        (Region.kind == "ward") & Region.path.like(f"/VN/{settings.province_code}/%")).order_by(
        Region.code, ascending=False).first()  # not the region tests' first ward
    venue = await venues.create(venues.parse_venue(
        {"name": f"Chợ Truy Vết {uuid.uuid4().hex[:6]}", "kind": "market",
         "region": ward["code"]}), settings)
    fields = make.person_fields(full_name="Hồ Thị Ca")
    ids = {}
    for name, form in (("case", fields), ("formula", make.person_fields()),
                       ("late", make.person_fields(full_name="Phan Văn Muộn"))):
        ids[name] = await make.add_person(await make.account(), settings, form, is_owner=True)
    await Person.update({Person.full_name: FORMULA}).where(Person.id == ids["formula"])
    await checkins.check_in(venue.id, [ids["case"]], settings, now=t)
    await checkins.check_out(venue.id, [ids["case"]], now=t + timedelta(hours=1))
    await checkins.check_in(venue.id, [ids["formula"]], settings, now=t + timedelta(minutes=20))
    await checkins.check_in(venue.id, [ids["late"]], settings, now=t + timedelta(hours=1))
    yield {"t": t, "venue": venue, "ids": ids, "id_number": fields["id_number"]}
    for view in await policies.current():
        if view.target_code.startswith(f"{ward['code']}-V{venue.id}-"):
            await policies.delete(view.policy_key)


def venue_form(html: str, scene, **overrides) -> dict:
    t = scene["t"]
    return {"_csrf_token": csrf_from(html), "venue": str(scene["venue"].id),
            "tu": local(t), "den": local(t + timedelta(hours=1)), "ly_do": REASON, **overrides}


async def last_audit(action: str) -> dict:
    row = await AuditEntry.select().where(AuditEntry.action == action).order_by(
        AuditEntry.id, ascending=False).first()
    return {**row, "detail": json.loads(row["detail"])}


async def test_anonymous_gets_401_and_other_roles_403(client, database):
    client.cookies.clear()
    assert (await client.get(BASE + "/")).status_code == 401
    assert (await client.post(BASE + "/diem-den", data={})).status_code in (401, 403)
    for role in ("checkpoint", "venue", "local"):
        await sign_in_officer(client, role, region_code="VN-46" if role == "local" else None)
        assert (await client.get(BASE + "/")).status_code == 403, role


async def test_the_reason_is_required_and_the_inputs_are_kept(client, scene):
    await sign_in_officer(client, "health", name="Bác sĩ Truy Vết")
    page = await client.get(BASE + "/")
    assert page.status_code == 200 and "Chợ Truy Vết" in page.text
    before = await AuditEntry.count().where(AuditEntry.action == "trace.query")
    answer = await client.post(BASE + "/diem-den", data=venue_form(page.text, scene, ly_do="ít"),
                               headers={"HX-Request": "true"})
    assert answer.status_code == 422
    assert 'id="venue-ly_do-loi">Lý do dài từ 10 đến 300 ký tự.' in answer.text
    assert f'<option value="{scene["venue"].id}" selected>' in answer.text
    assert f'value="{local(scene["t"])}"' in answer.text
    assert "Hồ Thị Ca" not in answer.text  # nothing was looked up
    answer = await client.post(BASE + "/diem-den", data=venue_form(page.text, scene, ly_do=""))
    assert answer.status_code == 422 and 'id="venue-ly_do-loi">Hãy nêu lý do' in answer.text
    assert await AuditEntry.count().where(AuditEntry.action == "trace.query") == before


async def test_a_venue_trace_lists_overlaps_with_phones_and_is_audited(client, scene):
    officer = await sign_in_officer(client, "health")
    page = await client.get(BASE + "/")
    answer = await client.post(BASE + "/diem-den", data=venue_form(page.text, scene),
                               headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "Hồ Thị Ca" in answer.text and FORMULA.replace("'", "&#39;") in answer.text
    assert "Phan Văn Muộn" not in answer.text  # began exactly when the window ended
    assert "tự kết thúc" in answer.text and "2 lượt" in answer.text
    assert "<html" not in answer.text  # the fragment only
    entry = await last_audit("trace.query")
    assert entry["actor_id"] == officer.id and entry["person"] is None
    assert entry["detail"]["venue"] == scene["venue"].id
    assert entry["detail"]["reason"] == REASON and entry["detail"]["rows"] == 2
    listed = await AuditEntry.select(AuditEntry.person).where(
        (AuditEntry.action == "trace.listed") & (AuditEntry.actor_id == officer.id))
    assert {r["person"] for r in listed} == {scene["ids"]["case"], scene["ids"]["formula"]}


async def test_a_person_trace_by_id_number(client, scene):
    officer = await sign_in_officer(client, "admin")
    page = await client.get(BASE + "/")
    day = (scene["t"].astimezone(LOCAL_TIMEZONE)).date().isoformat()
    answer = await client.post(BASE + "/nguoi", data={
        "_csrf_token": csrf_from(page.text), "nguoi": scene["id_number"], "tu_ngay": day,
        "den_ngay": day, "ly_do": REASON})
    assert answer.status_code == 200
    assert "Hồ Thị Ca" in answer.text and "1 lượt tiếp xúc" in answer.text
    assert "Phan Văn Muộn" not in answer.text
    entry = await last_audit("trace.query")
    assert entry["actor_id"] == officer.id and entry["person"] == scene["ids"]["case"]
    assert scene["id_number"] not in json.dumps(entry["detail"])
    missing = await client.post(BASE + "/nguoi", data={
        "_csrf_token": csrf_from(page.text), "nguoi": "046099999999", "tu_ngay": day,
        "den_ngay": day, "ly_do": ""})
    assert missing.status_code == 422
    assert 'id="nguoi-loi">Không tìm thấy người' in missing.text
    assert 'id="person-ly_do-loi">Hãy nêu lý do' in missing.text
    assert 'value="046099999999"' in missing.text


async def test_the_csv_has_a_bom_and_neutralised_formulas(client, scene):
    officer = await sign_in_officer(client, "health")
    page = await client.get(BASE + "/")
    answer = await client.post(BASE + "/diem-den/xuat.csv", data=venue_form(page.text, scene))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Họ và tên" and len(rows) == 3
    names = {row[0] for row in rows[1:]}
    assert "'" + FORMULA in names and FORMULA not in names and "Hồ Thị Ca" in names
    formula_row = next(row for row in rows if row[0] == "'" + FORMULA)
    assert formula_row[5] == "tự kết thúc" and formula_row[6] == "40"
    assert formula_row[2].startswith("0")  # the phone, for the health official to call
    entry = await last_audit("trace.export")
    assert entry["actor_id"] == officer.id and entry["detail"]["reason"] == REASON
    assert entry["detail"]["rows"] == 2 and entry["detail"]["complete"] is True
    refused = await client.post(BASE + "/diem-den/xuat.csv",
                                data=venue_form(page.text, scene, ly_do=""))
    assert refused.status_code == 422


async def test_a_point_policy_from_a_venue_result(client, scene):
    await sign_in_officer(client, "health")
    page = await client.get(BASE + "/")
    bad = await client.post(BASE + "/chinh-sach-diem", data=venue_form(
        page.text, scene, measure="home", days=""))
    assert bad.status_code == 422 and 'id="days-loi"' in bad.text
    assert 'value="home" selected' in bad.text
    answer = await client.post(BASE + "/chinh-sach-diem", data=venue_form(
        page.text, scene, measure="home", days="14", legal_reference="Công văn 12/SYT"),
        follow_redirects=True)
    assert answer.status_code == 200
    assert "Đã tạo chính sách điểm." in answer.text and "Chợ Truy Vết" in answer.text
    entry = await last_audit("trace.point_policy")
    assert entry["detail"]["venue"] == scene["venue"].id and entry["detail"]["days"] == 14
