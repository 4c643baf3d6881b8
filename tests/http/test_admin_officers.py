"""Admin pages for officers (/quan-tri/can-bo) and checkpoints (/quan-tri/chot) over HTTP."""

from __future__ import annotations

import json
import re

from khaibao.arrivals import arrivals
from khaibao.checks import checkpoints
from khaibao.core import sessions
from khaibao.officers import enrollments, officers
from khaibao.regions import regions
from khaibao.tables import AuditEntry, Officer, Passkey
from tests.helpers import csrf_from, csrf_headers, only_admin, sign_in_officer

BASE = "/quan-tri/can-bo"


def enrollment_url(html: str) -> str:
    match = re.search(r'id="enrollment-url"[^>]*value="([^"]+)"', html)
    assert match, "no enrollment link shown"
    return match.group(1)


async def audited(action: str, officer_id: int) -> bool:
    rows = await AuditEntry.select(AuditEntry.detail, AuditEntry.actor_id).where(
        AuditEntry.action == action)
    return any(json.loads(r["detail"]).get("officer") == officer_id for r in rows)


async def test_list_shows_officers_in_words(client):
    admin = await sign_in_officer(client, "admin", name="Quản Trị Danh Sách")
    ward = (await regions.children("VN-46"))[0]
    local = await officers.create("Hoàng Thị Địa Phương", "local", region_code=ward.code)
    await officers.record_sign_in(local.id)
    disabled = await officers.create("Trương Văn Khoá", "venue")
    await officers.set_active(disabled.id, False)
    page = await client.get(BASE)
    assert page.status_code == 200
    html = page.text
    assert "Hoàng Thị Địa Phương" in html and "Cán bộ địa phương" in html
    assert ward.name in html and "Đã khoá" in html and "Đang hoạt động" in html
    assert "phút trước" in html or "giây trước" in html
    assert admin.name in html
    # the create form: every field labelled, the region picker, roles in words
    assert '<label for="name">' in html and '<label for="role">' in html
    assert 'id="region-picker"' in html and "Nhân viên điểm đến" in html


async def test_create_shows_a_working_link_once(client, settings):
    admin = await sign_in_officer(client, "admin")
    point = await checkpoints.create("Chốt Hầm Hải Vân Kiểm Thử")
    page = await client.get(BASE)
    created = await client.post(BASE, data={
        "_csrf_token": csrf_from(page.text), "name": "Phạm Văn Chốt", "role": "checkpoint",
        "checkpoint": str(point.id)})
    assert created.status_code == 201
    url = enrollment_url(created.text)
    assert url.startswith(settings.base_url + "/can-bo/dang-ky/")
    assert "Hết hạn lúc" in created.text and "24 giờ" in created.text
    found = await enrollments.find_enrollment(url.rsplit("/", 1)[1])
    assert found.officer.name == "Phạm Văn Chốt" and found.officer.checkpoint_id == point.id
    assert await audited("officer.create", found.officer.id)
    assert await audited("officer.enroll_link", found.officer.id)
    # never shown again
    again = await client.get(BASE)
    assert url not in again.text and "Phạm Văn Chốt" in again.text
    assert url not in (await client.get(f"{BASE}/{found.officer.id}")).text
    rows = await AuditEntry.select(AuditEntry.actor_id).where(
        AuditEntry.action == "officer.create")
    assert admin.id in {r["actor_id"] for r in rows}


async def test_create_errors_next_to_fields_input_kept(client):
    await sign_in_officer(client, "admin")
    page = await client.get(BASE)
    response = await client.post(BASE, headers=csrf_headers(page.text, htmx=True), data={
        "name": "Nguyễn Thị Thiếu Địa Bàn", "role": "local", "checkpoint": ""})
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="admin-officers"' in response.text
    assert 'value="Nguyễn Thị Thiếu Địa Bàn"' in response.text
    assert "Cán bộ địa phương cần có địa bàn phụ trách." in response.text
    assert not await Officer.exists().where(Officer.name == "Nguyễn Thị Thiếu Địa Bàn")
    response = await client.post(BASE, headers=csrf_headers(page.text, htmx=True),
                                 data={"name": "", "role": "sheriff"})
    assert response.status_code == 422
    assert "Vui lòng nhập họ và tên cán bộ." in response.text
    assert "Vui lòng chọn vai trò." in response.text
    assert 'aria-invalid="true"' in response.text


async def test_create_local_official_with_the_picker(client):
    await sign_in_officer(client, "admin")
    ward = (await regions.children("VN-46"))[1]
    page = await client.get(BASE)
    response = await client.post(BASE, headers=csrf_headers(page.text, htmx=True), data={
        "name": "Lê Thị Phường", "role": "local", "region_province": "VN-46",
        "region_ward": ward.code, "region": ""})
    assert response.status_code == 201, response.text
    assert "<html" not in response.text and enrollment_url(response.text)
    row = await Officer.select(Officer.id).where(Officer.name == "Lê Thị Phường").first()
    view = await officers.get(row["id"])
    assert view.region_code == ward.code and view.role == "local"


async def test_edit_role_ends_sessions_and_is_audited(client):
    await sign_in_officer(client, "admin")
    target = await officers.create("Đinh Văn Sửa", "checkpoint")
    their_session = await officers.start_session(target.id)
    page = await client.get(f"{BASE}/{target.id}")
    assert page.status_code == 200 and 'value="Đinh Văn Sửa"' in page.text
    response = await client.post(f"{BASE}/{target.id}", follow_redirects=False, data={
        "_csrf_token": csrf_from(page.text), "name": "Đinh Văn Đã Sửa", "role": "health"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{BASE}/{target.id}?xong=sua"
    changed = await officers.get(target.id)
    assert changed.name == "Đinh Văn Đã Sửa" and changed.role == "health"
    assert await sessions.load(their_session) is None
    assert await audited("officer.update", target.id)
    shown = await client.get(response.headers["location"])
    assert "Đã lưu thông tin cán bộ." in shown.text


async def test_edit_error_keeps_input(client):
    await sign_in_officer(client, "admin")
    target = await officers.create("Đinh Văn Lỗi", "health")
    page = await client.get(f"{BASE}/{target.id}")
    response = await client.post(f"{BASE}/{target.id}", headers=csrf_headers(page.text, htmx=True),
                                 data={"name": "X", "role": "local"})
    assert response.status_code == 422 and 'id="officer-detail"' in response.text
    assert 'value="X"' in response.text
    assert "Họ và tên dài từ 2 đến 100 ký tự." in response.text
    assert "Cán bộ địa phương cần có địa bàn phụ trách." in response.text
    assert (await officers.get(target.id)).name == "Đinh Văn Lỗi"


async def test_new_link_revokes_the_old_and_revoke(client):
    await sign_in_officer(client, "admin")
    target = await officers.create("Mai Văn Liên Kết", "health")
    old = await enrollments.issue_enrollment(target.id)
    page = await client.get(f"{BASE}/{target.id}")
    assert "Có một liên kết chưa dùng" in page.text
    response = await client.post(f"{BASE}/{target.id}/lien-ket",
                                 headers=csrf_headers(page.text, htmx=True))
    assert response.status_code == 201 and "<html" not in response.text
    new = enrollment_url(response.text).rsplit("/", 1)[1]
    assert await enrollments.find_enrollment(old) is None
    assert await enrollments.find_enrollment(new) is not None
    response = await client.post(f"{BASE}/{target.id}/thu-hoi",
                                 headers=csrf_headers(page.text, htmx=True))
    assert response.status_code == 200
    assert "Đã thu hồi liên kết đăng ký." in response.text
    assert "Không có liên kết nào đang mở." in response.text
    assert await enrollments.find_enrollment(new) is None
    assert await audited("officer.revoke_link", target.id)


async def test_disable_asks_first_then_signs_them_out(client, database):
    import httpx

    await sign_in_officer(client, "admin")
    target = await officers.create("Tạ Văn Nghỉ", "admin")
    # the target's own browser
    from khaibao.app import create_app
    app = create_app(database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://localhost:8000") as theirs:
        theirs.cookies.set("khaibao_officer", await officers.start_session(target.id))
        assert (await theirs.get(BASE)).status_code == 200
        confirm = await client.get(f"{BASE}/{target.id}/khoa")
        assert confirm.status_code == 200 and "Khoá tài khoản của Tạ Văn Nghỉ?" in confirm.text
        assert (await officers.get(target.id)).active  # asking changes nothing
        done = await client.post(f"{BASE}/{target.id}/khoa", follow_redirects=False,
                                 data={"_csrf_token": csrf_from(confirm.text)})
        assert done.status_code == 303
        assert not (await officers.get(target.id)).active
        assert (await theirs.get(BASE)).status_code == 401
        assert await audited("officer.disable", target.id)
    shown = await client.get(done.headers["location"])
    assert "Đã khoá" in shown.text and "Mở khoá tài khoản" in shown.text
    enabled = await client.post(f"{BASE}/{target.id}/mo-khoa",
                                headers=csrf_headers(shown.text, htmx=True))
    assert enabled.status_code == 200 and "Đã mở khoá tài khoản." in enabled.text
    assert (await officers.get(target.id)).active


async def test_last_admin_is_protected(client):
    admin = await sign_in_officer(client, "admin", name="Quản Trị Duy Nhất")
    async with only_admin(admin.id):
        page = await client.get(f"{BASE}/{admin.id}")
        response = await client.post(f"{BASE}/{admin.id}/khoa",
                                     headers=csrf_headers(page.text, htmx=True))
        assert response.status_code == 409
        assert "Không thể khoá quản trị viên cuối cùng đang hoạt động." in response.text
        response = await client.post(f"{BASE}/{admin.id}",
                                     headers=csrf_headers(page.text, htmx=True),
                                     data={"name": admin.name, "role": "health"})
        assert response.status_code == 422
        assert "Không thể đổi vai trò của quản trị viên cuối cùng" in response.text
        current = await officers.get(admin.id)
        assert current.active and current.role == "admin"


async def test_detail_lists_passkeys(client):
    from datetime import UTC, datetime

    await sign_in_officer(client, "admin")
    target = await officers.create("Lý Văn Khoá Số", "health")
    await Passkey.insert(Passkey(officer=target.id, credential_id=f"c-{target.id}",
                                 public_key="pk", name="Điện thoại Android",
                                 created_at=datetime.now(UTC), last_used_at=datetime.now(UTC)))
    page = await client.get(f"{BASE}/{target.id}")
    assert "Điện thoại Android" in page.text and "Passkey đã đăng ký (1)" in page.text
    assert (await client.get(f"{BASE}/999999")).status_code == 404


async def test_other_roles_are_refused(client):
    await sign_in_officer(client, "local", region_code="VN-46")
    assert (await client.get(BASE)).status_code == 403
    assert (await client.get("/quan-tri/chot")).status_code == 403


# --- checkpoints -------------------------------------------------------------------------------

async def test_checkpoint_add_edit_deactivate(client):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/chot")
    assert page.status_code == 200 and 'id="region-picker"' in page.text
    missing = await client.post("/quan-tri/chot", headers=csrf_headers(page.text, htmx=True),
                                data={"name": " ", "place": "Km 5 quốc lộ 1A"})
    assert missing.status_code == 422 and "Vui lòng nhập tên chốt kiểm soát." in missing.text
    assert 'value="Km 5 quốc lộ 1A"' in missing.text
    added = await client.post("/quan-tri/chot", follow_redirects=False, data={
        "_csrf_token": csrf_from(page.text), "name": "Chốt Phong Điền", "place": "Km 5",
        "region_province": "VN-46"})
    assert added.status_code == 303
    point = next(c for c in await checkpoints.list_all() if c.name == "Chốt Phong Điền")
    assert point.active and point.region_code == "VN-46" and point.place == "Km 5"
    listing = await client.get(added.headers["location"])
    assert "Đã thêm chốt kiểm soát." in listing.text and "Chốt Phong Điền" in listing.text

    edited = await client.post(f"/quan-tri/chot/{point.id}",
                               headers=csrf_headers(page.text, htmx=True),
                               data={"name": "Chốt Phong Điền 2", "place": "Km 6"})
    assert edited.status_code == 200 and "Đã lưu thông tin chốt." in edited.text
    point = await checkpoints.get(point.id)
    assert point.name == "Chốt Phong Điền 2" and point.region_code is None

    off = await client.post(f"/quan-tri/chot/{point.id}/tam-dung",
                            headers=csrf_headers(page.text, htmx=True))
    assert off.status_code == 200 and "Ngừng hoạt động" in off.text
    assert point.id not in {c.id for c in await arrivals.checkpoints()}
    on = await client.post(f"/quan-tri/chot/{point.id}/kich-hoat", follow_redirects=False,
                           data={"_csrf_token": csrf_from(page.text)})
    assert on.status_code == 303
    assert point.id in {c.id for c in await arrivals.checkpoints()}
    rows = await AuditEntry.select(AuditEntry.action, AuditEntry.detail).where(
        AuditEntry.action.like("checkpoint.%")).order_by(AuditEntry.id)
    mine = [r["action"] for r in rows if json.loads(r["detail"]).get("checkpoint") == point.id]
    assert mine == ["checkpoint.create", "checkpoint.update", "checkpoint.disable",
                    "checkpoint.enable"]
    assert (await client.get("/quan-tri/chot/999999")).status_code == 404


async def test_create_form_comes_back_clean_after_a_create(client):
    """Issue 19 item 26: after a create the form shows the default role and an empty name, and
    the browser is told not to restore the last values; after an error they are kept."""
    await sign_in_officer(client, "admin")
    page = await client.get(BASE)
    created = await client.post(BASE, headers=csrf_headers(page.text, htmx=True), data={
        "name": "Đoàn Văn Vai Trò", "role": "venue", "checkpoint": ""})
    assert created.status_code == 201
    form = created.text[created.text.index('id="create-officer"'):]
    assert form.split(">", 1)[0].endswith('autocomplete="off"')
    assert re.search(r'<option value="checkpoint" selected>', form)
    assert not re.search(r'<option value="venue" selected>', form)
    assert 'value="Đoàn Văn Vai Trò"' not in form
    failed = await client.post(BASE, headers=csrf_headers(page.text, htmx=True), data={
        "name": "", "role": "venue", "checkpoint": ""})
    assert failed.status_code == 422
    assert re.search(r'<option value="venue" selected>', failed.text)
