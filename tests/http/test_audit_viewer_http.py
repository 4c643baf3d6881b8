"""The audit viewer: admins only, filters by officer, action, person and date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from khaibao.core import audit
from tests.helpers import sign_in_officer
from tests.unit.citizen_factories import account, add_person


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
    assert bad.status_code == 422 and "Nhập số mã người khai báo" in bad.text


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
