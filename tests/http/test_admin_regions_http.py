"""Quản trị địa bàn and the BHYT import over HTTP: guards, CSV uploads (line numbers, all or
nothing), rename, merge with its confirmation step."""

from __future__ import annotations

import uuid

from khaibao.qr import tokens
from khaibao.regions import regions
from khaibao.tables import InsuranceRecord, Person, Region
from tests.helpers import csrf_from, sign_in_officer
from tests.unit import citizen_factories


async def _ward() -> str:
    await regions.ensure_vietnam_loaded()
    row = await Region.select(Region.code).where(
        (Region.kind == "ward") & Region.path.like("/VN/VN-%")).order_by(Region.code).first()
    return row["code"]


async def _upload(client, url: str, page: str, text: str):
    html = (await client.get(page)).text
    return await client.post(url, data={"_csrf_token": csrf_from(html)},
                             files={"file": ("data.csv", text.encode(), "text/csv")})


async def test_guards(client):
    for url in ("/quan-tri/dia-ban/", "/quan-tri/bhyt/"):
        assert (await client.get(url)).status_code == 401
    await sign_in_officer(client, "health")
    for url in ("/quan-tri/dia-ban/", "/quan-tri/bhyt/"):
        assert (await client.get(url)).status_code == 403
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/dia-ban/")
    assert page.status_code == 200 and 'href="/quan-tri/dia-ban"' in page.text
    assert (await client.get("/quan-tri/bhyt/")).status_code == 200


async def test_village_upload_bad_line_imports_nothing_then_good_file_imports(client):
    await sign_in_officer(client, "admin")
    ward = await _ward()
    tag = uuid.uuid4().hex[:6]
    bad = f"ward_code,name,kind\n{ward},Thôn A{tag},village\n{ward},Thôn B{tag},castle\n"
    response = await _upload(client, "/quan-tri/dia-ban/nhap", "/quan-tri/dia-ban/", bad)
    assert response.status_code == 422
    assert "Dòng 3" in response.text and "castle" in response.text
    assert await Region.count().where(Region.name.like(f"%{tag}")) == 0

    good = f"ward_code,name,kind\n{ward},Thôn A{tag},village\n{ward},Thôn B{tag},thôn\n"
    response = await _upload(client, "/quan-tri/dia-ban/nhap", "/quan-tri/dia-ban/", good)
    assert response.status_code == 200 and "thêm 2" in response.text
    assert await Region.count().where(Region.name.like(f"%{tag}")) == 2
    response = await _upload(client, "/quan-tri/dia-ban/nhap", "/quan-tri/dia-ban/", good)
    assert "thêm 0" in response.text and "giữ nguyên 2" in response.text

    html = (await client.get("/quan-tri/dia-ban/")).text
    missing = await client.post("/quan-tri/dia-ban/nhap", data={"_csrf_token": csrf_from(html)},
                                files={"file": ("", b"", "text/csv")})
    assert missing.status_code == 422 and "Vui lòng chọn tệp CSV" in missing.text


async def test_rename_and_merge_with_confirmation(client):
    await sign_in_officer(client, "admin")
    ward = await _ward()
    tag = uuid.uuid4().hex[:6]
    csv_text = f"{ward},Thôn Một {tag},village\n{ward},Thôn Hai {tag},village\n"
    assert (await _upload(client, "/quan-tri/dia-ban/nhap", "/quan-tri/dia-ban/",
                          csv_text)).status_code == 200
    rows = {r["name"]: r for r in await Region.select().where(Region.name.like(f"% {tag}"))}
    one, two = rows[f"Thôn Một {tag}"], rows[f"Thôn Hai {tag}"]
    person = (await Person.insert(Person(
        full_name="Nguyễn Văn A", id_type="none", birth_year=1990, sex="male",
        region=one["id"], qr_reference=tokens.new_reference(), id_hash=uuid.uuid4().hex)
    ).returning(Person.id).run())[0]["id"]

    page = await client.get(f"/quan-tri/dia-ban/?ma={one['code']}")
    assert page.status_code == 200 and f"Thôn Hai {tag}" in page.text
    token = csrf_from(page.text)
    bad = await client.post("/quan-tri/dia-ban/doi-ten",
                            data={"_csrf_token": token, "code": one["code"], "name": " "})
    assert bad.status_code == 422 and "Vui lòng nhập tên mới" in bad.text
    fragment = await client.post("/quan-tri/dia-ban/doi-ten", headers={"HX-Request": "true"},
                                 data={"_csrf_token": token, "code": one["code"], "name": ""})
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert 'id="admin-regions"' in fragment.text
    done = await client.post("/quan-tri/dia-ban/doi-ten", data={
        "_csrf_token": token, "code": one["code"], "name": f"Thôn Nhất {tag}"})
    assert done.status_code in (302, 303)
    shown = await client.get(done.headers["location"])
    assert "Đã đổi tên địa bàn" in shown.text and f"Thôn Nhất {tag}" in shown.text

    confirm = await client.post("/quan-tri/dia-ban/gop", data={
        "_csrf_token": token, "source": one["code"], "target": two["code"]})
    assert confirm.status_code == 200 and "Xác nhận gộp" in confirm.text
    assert "Số bản ghi sẽ chuyển: 1." in confirm.text and "Người dân (địa chỉ): 1" in confirm.text
    assert await Region.count().where(Region.id == one["id"]) == 1  # nothing changed yet
    refused = await client.post("/quan-tri/dia-ban/gop", data={
        "_csrf_token": token, "source": one["code"], "target": one["code"]})
    assert refused.status_code == 422 and "chính nó" in refused.text
    merged = await client.post("/quan-tri/dia-ban/gop/xac-nhan", data={
        "_csrf_token": token, "source": one["code"], "target": two["code"]})
    assert merged.status_code in (302, 303)
    assert "Đã gộp hai địa bàn" in (await client.get(merged.headers["location"])).text
    assert await Region.count().where(Region.id == one["id"]) == 0
    moved = await Person.select(Person.region).where(Person.id == person).first()
    assert moved["region"] == two["id"]


async def test_insurance_upload(client, settings):
    await sign_in_officer(client, "admin")
    card = citizen_factories.bhyt_number()
    bad = f"bhyt,full_name,birth_year,sex\n{card},Lê Thị Hoa,1985,female\nxyz,Ai Đó,1990,male\n"
    response = await _upload(client, "/quan-tri/bhyt/", "/quan-tri/bhyt/", bad)
    assert response.status_code == 422 and "Dòng 3" in response.text
    before = await InsuranceRecord.count()
    good = f"bhyt,full_name,birth_year,sex\n{card},Lê Thị Hoa,1985,female\n"
    response = await _upload(client, "/quan-tri/bhyt/", "/quan-tri/bhyt/", good)
    assert response.status_code == 200 and "thêm 1" in response.text
    assert await InsuranceRecord.count() == before + 1
    assert card not in response.text


async def test_browse_with_the_picker_and_a_large_upload(client):
    await sign_in_officer(client, "admin")
    ward = await _ward()
    chain = await regions.ancestors(ward)
    page = await client.get("/quan-tri/dia-ban/", params={
        "region_province": chain[1].code, "region_ward": ward})
    assert page.status_code == 200 and chain[-1].name in page.text
    assert "Đổi tên" in page.text
    tag = uuid.uuid4().hex[:6]
    lines = [f"{ward},Thôn {tag} {i} {'x' * 180},village" for i in range(1800)]
    text = "\n".join([*lines, f"{ward},,village"]) + "\n"
    assert len(text.encode()) > 300_000  # above the app's usual 256 KB body limit
    response = await _upload(client, "/quan-tri/dia-ban/nhap", "/quan-tri/dia-ban/", text)
    assert response.status_code == 422 and "Dòng 1801" in response.text
    assert await Region.count().where(Region.name.like(f"Thôn {tag} %")) == 0
