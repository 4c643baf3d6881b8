"""The audit viewer: admins only, filters by officer, action, person and date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from khaibao.core import audit
from khaibao.regions import regions
from khaibao.tables import AuditEntry
from tests.helpers import csrf_headers, sign_in_officer
from tests.unit.citizen_factories import account, add_person, cccd, person_fields


async def test_admin_filters_the_audit_log(client, database, settings):
    admin = await sign_in_officer(client, "admin", name="Quản trị Nhật Ký")
    action = "test." + uuid.uuid4().hex[:8]
    person = await add_person(await account(), settings)
    old = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    await audit.record(action, actor_kind="officer", actor_id=admin.id, person_id=person,
                       place="Chốt Phong Điền", detail={"rows": 3}, now=old)
    await audit.record(action, actor_kind="officer", actor_id=admin.id, place="Chốt Ga Huế",
                       now=old + timedelta(days=3))
    page = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}")
    assert page.status_code == 200
    assert "Chốt Phong Điền" in page.text and "Chốt Ga Huế" in page.text
    assert "Quản trị Nhật Ký" in page.text and "<dt>Số dòng:</dt><dd>3</dd>" in page.text
    by_person = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}&nguoi={person}")
    assert "Chốt Phong Điền" in by_person.text and "Chốt Ga Huế" not in by_person.text
    by_date = await client.get(
        f"/quan-tri/nhat-ky?hanh_dong={action}&tu=2026-01-07&den=2026-01-09")
    assert "Chốt Ga Huế" in by_date.text and "Chốt Phong Điền" not in by_date.text
    by_officer = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}&can_bo={admin.id + 999}")
    assert "Chốt Ga Huế" not in by_officer.text
    mine = await client.get(f"/quan-tri/nhat-ky?can_bo={admin.id}&hanh_dong={action}")
    assert "Chốt Ga Huế" in mine.text
    bad = await client.get("/quan-tri/nhat-ky?nguoi=abc")
    assert bad.status_code == 422 and "Nhập mã người khai báo (ví dụ #125)" in bad.text


async def test_only_admins_see_the_audit_log(client, database):
    await sign_in_officer(client, "local", region_code="VN-46")
    assert (await client.get("/quan-tri/nhat-ky")).status_code == 403
    client.cookies.clear()
    assert (await client.get("/quan-tri/nhat-ky")).status_code == 401


async def test_guides_are_public_in_both_languages(client, database):
    index = await client.get("/huong-dan")
    assert index.status_code == 200 and "/huong-dan/quan-tri" in index.text
    page = await client.get("/huong-dan/nguoi-dan")
    assert "Khai báo y tế toàn dân" in page.text
    english = await client.get("/huong-dan/quan-tri", headers={"Accept-Language": "en"})
    assert "Data export" in english.text
    assert (await client.get("/huong-dan/khong-co")).status_code == 404


async def test_audit_log_in_words_and_filtered_by_an_id_number(client, database, settings):
    """Issue 19 item 23: coded values (how a code was read, an area's code) are shown in words,
    and the person filter takes an ID number (found by its keyed hash, as the check does; the
    lookup is audited) as well as the internal #id."""
    admin = await sign_in_officer(client, "admin", name="Quản trị Tra Sổ")
    number = cccd(1991, "male")
    owner = await account()
    person = await add_person(owner, settings, person_fields(
        full_name="Lý Văn Sổ", id_number=number, birth_year="1991", sex="male"))
    action = "test." + uuid.uuid4().hex[:8]
    ward = (await regions.children("VN-46"))[0]
    await audit.record(action, actor_kind="officer", actor_id=admin.id, person_id=person,
                       place="Chốt Sổ Một", detail={"kind": "person_token", "input": "chip_cccd",
                                                    "region": ward.code})
    await audit.record(action, actor_kind="officer", actor_id=admin.id, place="Chốt Sổ Hai")
    page = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}")
    assert "person_token" not in page.text and "chip_cccd" not in page.text
    assert "Mã QR cá nhân" in page.text and "Mã QR trên thẻ CCCD" in page.text
    assert f"{ward.name}, Thành phố Huế" in page.text
    english = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}",
                               headers={"Accept-Language": "en"})
    assert "person_token" not in english.text and "Personal QR code" in english.text

    by_number = await client.post("/quan-tri/nhat-ky", headers=csrf_headers(page.text),
                                  data={"hanh_dong": action, "nguoi": number})
    assert by_number.status_code == 200
    assert "Chốt Sổ Một" in by_number.text and "Chốt Sổ Hai" not in by_number.text
    assert number not in by_number.text.replace(f'value="{number}"', "")  # only in the field
    lookups = await AuditEntry.select().where(
        (AuditEntry.action == "check.lookup") & (AuditEntry.actor_id == admin.id)
    ).order_by(AuditEntry.id)
    assert [row["person"] for row in lookups] == [person]
    assert number not in lookups[0]["detail"]
    by_id = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}&nguoi=%23{person}")
    assert "Chốt Sổ Một" in by_id.text and "Chốt Sổ Hai" not in by_id.text
    nobody = await client.post("/quan-tri/nhat-ky", headers=csrf_headers(page.text),
                               data={"hanh_dong": action, "nguoi": cccd(1991, "male")})
    assert nobody.status_code == 404 and "Chốt Sổ Một" not in nobody.text
    assert "Không có người khai báo nào với số giấy tờ này." in nobody.text
    # never in a URL: a link with an ID number is refused, and nothing is looked up
    in_url = await client.get(f"/quan-tri/nhat-ky?hanh_dong={action}&nguoi={number}")
    assert in_url.status_code == 422 and "Chốt Sổ Một" not in in_url.text
    assert await AuditEntry.count().where((AuditEntry.action == "check.lookup")
                                          & (AuditEntry.actor_id == admin.id)) == 2
