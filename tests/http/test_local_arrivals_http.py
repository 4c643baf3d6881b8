"""Người đến địa bàn over HTTP: scope (403 outside the officer's area), filters, the CSV
(BOM, formula injection through a real arrival, headers), the audit entries, and each row's
current requirement being the person's one verdict (the checkpoint's), with the requirement
at arrival beside it when it differs."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta

import pytest

from khaibao.arrivals import arrivals
from khaibao.arrivals.trips import TripData
from khaibao.checks import checks
from khaibao.citizens import people
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.policies import policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.tables import AuditEntry
from khaibao.verdicts import verdicts
from tests.helpers import sign_in_officer
from tests.http.test_own_verdict import declare_health, text_of
from tests.unit.citizen_factories import account, add_person, person_fields
from tests.unit.test_tracing import stayed_under_point_policy

HUE = "VN-46"
VN = LOCAL_TIMEZONE


@pytest.fixture
async def wards(database):
    return [w for w in await regions.children(HUE) if w.kind == "ward"][8:10]


async def arrive(settings, ward, *, detail: str, name: str, hours_ago: int = 2) -> int:
    arrival_id, _person = await arrive_person(settings, ward, detail=detail, name=name,
                                              hours_ago=hours_ago)
    return arrival_id


async def arrive_person(settings, ward, *, detail: str, name: str, hours_ago: int = 2,
                        fields: dict[str, str] | None = None):
    """An arrival into ``ward`` from Hà Nội's first area ``hours_ago``: (its id, the person).
    ``fields``: the person's form (default: a new person named ``name``)."""
    account_id = await account()
    await add_person(account_id, settings, fields or person_fields(full_name=name),
                     is_owner=True)
    owner = (await people.persons_of(account_id, settings))[0]
    hanoi = (await regions.children("VN-01"))[0]
    at = datetime.now(VN) - timedelta(hours=hours_ago)
    trip = TripData(departure_date=at.date() - timedelta(days=1), arrival_at=at,
                    transport="bus", destination_region_code=ward.code,
                    origin_region_code=hanoi.code, destination_detail=detail)
    result = await arrivals.submit(account_id, person_ids=[owner.id], new_persons=[], trip=trip,
                                   client_ref=uuid.uuid4().hex, settings=settings,
                                   province_code=HUE, province_name="Huế")
    return result.arrival_ids[0], owner


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
    assert table[0][0] == "Họ và tên" and "Yêu cầu hiện tại" in table[0]
    row = next(r for r in table[1:] if r[0] == "Lý Văn Đông")
    address = row[table[0].index("Địa chỉ nơi đến")]
    assert address == "'=HYPERLINK(\"http://x\")"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in table for cell in r)
    assert row[table[0].index("Yêu cầu hiện tại")] == "Cần lưu ý"  # no health declaration
    assert row[table[0].index("Biện pháp hiện tại")] == "Không áp dụng biện pháp"
    detail = await last_audit("arrivals.export", officer.id)
    assert detail["region"] == ward_a.code and detail["rows"] == len(table) - 1
    assert detail["complete"] is True and detail["from"] == start


def row_of(html: str, name: str) -> str:
    """The words of the one row (a card on a phone) of the list naming ``name``."""
    rows = [chunk for chunk in html.split("<tr")[1:] if name in chunk]
    assert len(rows) == 1, f"no single row for {name}"
    return text_of(rows[0].split("</tr>")[0])


async def csv_rows(client, **params) -> list[dict[str, str]]:
    response = await client.get("/quan-tri/nguoi-den/xuat.csv", params=params)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_a_policy_ended_since_the_arrival_is_not_the_current_requirement(
        client, database, wards):
    """The list used to decide at the arrival time, quoting a policy version that had been
    ended since: the current requirement is now the verdict's, the one at arrival is beside
    it, labelled."""
    ward_a, _ward_b = wards
    hanoi = (await regions.children("VN-01"))[0]
    now = datetime.now(VN)
    made = await policies.create(PolicyInput(hanoi.code, "centralised", 14, "",
                                             now - timedelta(days=5), None, "CV 9/UBND"),
                                 created_by=None)
    try:
        _arrival, person = await arrive_person(database, ward_a, detail="Kiệt 9", hours_ago=3,
                                               name="Tôn Nữ Hoa")
        await policies.end(made.policy_key, at=now - timedelta(hours=1), created_by=None)
        at_checkpoint = await checks.lookup(person.token, database)
        assert at_checkpoint.decision is None or at_checkpoint.decision.measure == "none"
        await sign_in_officer(client, "local", region_code=ward_a.code)
        page = await client.get("/quan-tri/nguoi-den")
        words = row_of(page.text, "Tôn Nữ Hoa")
        now_part, _sep, arrival_part = words.partition("Khi đến")
        label = checks.COLOUR_LABELS[at_checkpoint.colour]
        assert f"Yêu cầu hiện tại: {label}" in now_part
        assert "Cách ly tập trung" not in now_part and "CV 9/UBND" not in now_part
        assert "Cách ly tập trung 14 ngày" in arrival_part
        row = next(r for r in await csv_rows(client) if r["Họ và tên"] == "Tôn Nữ Hoa")
        assert row["Yêu cầu hiện tại"] == label
        assert row["Biện pháp hiện tại"] == "Không áp dụng biện pháp"
        assert row["Biện pháp khi đến"] == "Cách ly tập trung 14 ngày"
        assert "CV 9/UBND" in row["Lý do khi đến"] and "CV 9/UBND" not in row["Lý do"]
    finally:
        await policies.delete(made.policy_key)


async def test_red_at_the_checkpoint_is_red_in_the_list_and_its_csv(client, database, wards):
    """Fever and a stay at a venue under a point policy: red at the checkpoint, but the list
    said "Không áp dụng biện pháp" (it knew only the trip)."""
    ward_a, _ward_b = wards
    _arrival, person = await arrive_person(database, ward_a, detail="Đội 7", name="Mai Văn Lộc")
    await declare_health(database, person, symptoms=("fever",))
    made = await stayed_under_point_policy(database, person.id, "Quán Cơm Hến", "QĐ 12/SYT")
    try:
        at_checkpoint = await checks.lookup(person.token, database)
        assert at_checkpoint.colour == "red"
        await sign_in_officer(client, "local", region_code=ward_a.code)
        page = await client.get("/quan-tri/nguoi-den")
        words = row_of(page.text, "Mai Văn Lộc")
        assert f"Yêu cầu hiện tại: {checks.COLOUR_LABELS['red']}" in words
        assert "Cách ly tại nhà 14 ngày" in words
        now_part = words.partition("Khi đến")[0]
        assert "Không áp dụng biện pháp" not in now_part
        for reason in at_checkpoint.reasons:
            assert text_of(reason) in now_part, reason
        assert "Khi đến: Không áp dụng biện pháp" in words  # the trip itself had none
        counts = text_of(page.text.split('class="arrival-counts"')[1].split("</ul>")[0])
        assert f"{checks.COLOUR_LABELS['red']}" in counts
        home = await client.get("/quan-tri/nguoi-den", params={"ket_qua": "home"})
        assert "Mai Văn Lộc" in home.text
        row = next(r for r in await csv_rows(client) if r["Họ và tên"] == "Mai Văn Lộc")
        assert row["Yêu cầu hiện tại"] == checks.COLOUR_LABELS["red"]
        assert row["Biện pháp hiện tại"] == "Cách ly tại nhà 14 ngày"
        assert "QĐ 12/SYT" in row["Lý do"] and "Sốt" in row["Lý do"]
        expected = await verdicts.verdict_of(person.id, database, at=datetime.now(VN))
        assert row["Lý do"] == " ".join(expected.reasons)
    finally:
        await policies.delete(made.policy.policy_key)


async def test_an_id_declared_from_another_phone_counts_as_at_the_checkpoint(
        client, database, wards):
    """The same ID number declared from two phones is one person at the checkpoint: a fever
    declared from the other phone makes the arrival red in the list too."""
    ward_a, _ward_b = wards
    fields = person_fields(full_name="Võ Văn Hai")
    _arrival, person = await arrive_person(database, ward_a, detail="Đội 2", name="Võ Văn Hai",
                                           fields=fields)
    other_account = await account()
    other_id = await add_person(other_account, database, fields, is_owner=True)
    other = await people.get_person(other_account, other_id, database)
    await declare_health(database, other, symptoms=("fever",))
    at_checkpoint = await checks.lookup(person.token, database)
    assert at_checkpoint.colour == "red", at_checkpoint.reasons
    await sign_in_officer(client, "local", region_code=ward_a.code)
    words = row_of((await client.get("/quan-tri/nguoi-den")).text, "Đội 2")
    assert f"Yêu cầu hiện tại: {checks.COLOUR_LABELS['red']}" in words
    row = next(r for r in await csv_rows(client) if r["Địa chỉ nơi đến"] == "Đội 2")
    assert row["Lý do"] == " ".join(at_checkpoint.reasons)
