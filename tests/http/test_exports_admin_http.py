"""Dashboard and CSV exports over HTTP: a ward official sees and exports only their ward
(403 for another), the CSV neutralises formulas, every export is audited."""

from __future__ import annotations

import csv
import io
import json
import re

from khaibao.arrivals import trips
from khaibao.checks import checks
from khaibao.core import exports, i18n
from khaibao.tables import AuditEntry, Person
from khaibao.venues import checkins
from khaibao.vn import countries
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


RAW_CODES = {"self", "relative", "assisted", "paper", "kiosk", "male", "female", "car",
             "motorbike", "bus", "train", "plane", "ship", "other", "staff", "typed", "VN",
             "fever", "cough"}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SHOWN_DAY = re.compile(r"\d{2}/\d{2}/\d{4}( \d{2}:\d{2})?")


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _in_words(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert cell not in RAW_CODES, (column, cell)
            assert not ISO_DAY.search(cell), (column, cell)
            parts = [part for part in re.split(r"[;,] ?", cell) if part]
            assert not any(part.startswith("VN-") or part.startswith("T") and "-" in part
                           and part.isupper() for part in parts), (column, cell)


async def test_exports_say_things_in_words_in_the_export_s_language(client, database):
    """Issue 19 item 23: the words the screens show (not `self`, `male`, `plane`), each area
    with its ward and province, one date format — in Vietnamese and in English."""
    area = await dashboard_factories.area(per_ward=6)
    await sign_in_officer(client, "local", region_code=area.ward_a)
    ward = f"Phường A {area.tag}, Tỉnh Thử"
    base = "/quan-tri/xuat-du-lieu/tai-ve?loai="

    declared = _csv(await client.get(base + "health_declaration"))
    assert declared and {r["Địa bàn"] for r in declared} == {ward}
    assert {r["Giới tính"] for r in declared} <= {"Nam", "Nữ"}
    assert {r["Kênh"] for r in declared} <= set(checks.CHANNEL_LABELS.values())
    assert {r["Quốc tịch"] for r in declared} <= {"Việt Nam", *countries.codes()} - {"VN"}
    assert {r["Có triệu chứng"] for r in declared} <= {"có", "không"}
    assert all(SHOWN_DAY.fullmatch(r["Thời gian khai báo"]) for r in declared)
    _in_words(declared)

    arrived = _csv(await client.get(base + "arrival"))
    assert arrived and {r["Nơi đến"] for r in arrived} == {ward}
    assert {r["Nơi đi"] for r in arrived} == {"Xã Nơi Đi, Tỉnh Nơi Đi"}
    assert {r["Phương tiện"] for r in arrived} <= set(trips.TRANSPORT_LABELS.values())
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r["Ngày khởi hành"]) for r in arrived)
    _in_words(arrived)

    stays = _csv(await client.get(base + "check_in"))
    assert stays and {r["Cách check-in"] for r in stays} <= set(
        checkins.BY_KIND_LABELS.values())
    _in_words(stays)

    english = {"Accept-Language": "en"}
    declared_en = _csv(await client.get(base + "health_declaration", headers=english))
    assert "Sex" in declared_en[0] and "Giới tính" not in declared_en[0]
    assert {r["Sex"] for r in declared_en} <= {"Male", "Female"}
    assert {r["Nationality"] for r in declared_en} <= {"Vietnam"} | set(countries.codes())
    arrived_en = _csv(await client.get(base + "arrival", headers=english))
    transports = {i18n.gettext_in("en", label) for label in trips.TRANSPORT_LABELS.values()}
    assert {r["Transport"] for r in arrived_en} <= transports
    _in_words(declared_en + arrived_en)


def test_csv_cells_stay_neutralised():
    text = exports.encode_rows([["=1+1", "Phường A, Tỉnh Thử", "-2", "@x"]])
    assert text == "'=1+1,\"Phường A, Tỉnh Thử\",'-2,'@x\r\n"
