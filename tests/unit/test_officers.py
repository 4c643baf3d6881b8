"""The officers service: validation, enrollment links, disabling, last-admin protection,
scope and permissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.checks import checkpoints
from khaibao.core import sessions
from khaibao.core.errors import FormErrors, InputError
from khaibao.officers import enrollments, officer_passkeys, officers
from khaibao.officers.officers import OfficerView
from khaibao.regions import regions
from khaibao.tables import AuditEntry, EnrollmentLink, Officer
from tests.helpers import only_admin

PROVINCE = "VN-46"


async def a_ward() -> regions.RegionView:
    return (await regions.children(PROVINCE))[0]


async def actions_about(officer_id: int) -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action, AuditEntry.detail).where(
        AuditEntry.action.like("officer.%")).order_by(AuditEntry.id)
    return [r["action"] for r in rows if json.loads(r["detail"]).get("officer") == officer_id]


# --- validation --------------------------------------------------------------------------------

async def test_create_validates_every_field_at_once(database):
    with pytest.raises(FormErrors) as caught:
        await officers.create("  ", "sheriff")
    assert set(caught.value.errors) == {"name", "role"}
    assert caught.value.errors["name"].code == "officer.name_required"
    assert caught.value.errors["role"].code == "officer.role_invalid"
    assert "họ và tên" in caught.value.errors["name"].message("vi")


async def test_name_length_and_cleanup(database):
    with pytest.raises(FormErrors) as caught:
        await officers.create("A", officers.HEALTH)
    assert caught.value.errors["name"].code == "officer.name_length"
    with pytest.raises(FormErrors):
        await officers.create("x" * 101, officers.HEALTH)
    created = await officers.create("  Trần   Thị\tLan ", officers.HEALTH)
    assert created.name == "Trần Thị Lan"
    assert created.active and created.passkey_count == 0


async def test_local_official_needs_a_known_region(database):
    with pytest.raises(FormErrors) as caught:
        await officers.create("Lê Văn Tám", officers.LOCAL)
    assert caught.value.errors["region"].code == "officer.region_required"
    with pytest.raises(FormErrors) as caught:
        await officers.create("Lê Văn Tám", officers.LOCAL, region_code="VN-999-nowhere")
    assert caught.value.errors["region"].code == "officer.region_unknown"
    ward = await a_ward()
    local = await officers.create("Lê Văn Tám", officers.LOCAL, region_code=ward.code)
    assert local.region_code == ward.code and local.region_name == ward.name
    assert local.place == ward.name
    # others may have no region
    assert (await officers.create("Hồ Văn Bốn", officers.VENUE)).region_code is None


async def test_unknown_checkpoint_refused(database):
    with pytest.raises(FormErrors) as caught:
        await officers.create("Phan Văn Hai", officers.CHECKPOINT, checkpoint_id=987654)
    assert caught.value.errors["checkpoint"].code == "officer.checkpoint_unknown"
    point = await checkpoints.create("Chốt Phú Bài Hai")  # checkpoint names are unique
    officer = await officers.create("Phan Văn Hai", officers.CHECKPOINT, checkpoint_id=point.id)
    assert officer.checkpoint_name == "Chốt Phú Bài Hai" and officer.place == "Chốt Phú Bài Hai"


async def test_create_and_update_are_audited(database):
    admin = await officers.create("Quản Trị Một", officers.ADMIN)
    officer = await officers.create("Ngô Văn Ba", officers.HEALTH, created_by=admin.id)
    await officers.update(officer.id, "Ngô Văn Ba", officers.CHECKPOINT, by=admin.id)
    assert await actions_about(officer.id) == ["officer.create", "officer.update"]


# --- enrollment links ----------------------------------------------------------------------------

async def test_enrollment_link_lives_24_hours(database):
    officer = await officers.create("Đỗ Văn Năm", officers.HEALTH)
    now = datetime.now(UTC)
    raw = await enrollments.issue_enrollment(officer.id, now=now)
    found = await enrollments.find_enrollment(raw, now=now + timedelta(hours=23, minutes=59))
    assert found is not None and found.officer.id == officer.id
    assert found.expires_at == now + timedelta(hours=24)
    assert await enrollments.open_enrollment(officer.id, now=now) == now + timedelta(hours=24)
    assert (await enrollments.open_enrollments(now=now))[officer.id] == now + timedelta(hours=24)
    assert await enrollments.find_enrollment(raw, now=now + timedelta(hours=24)) is None
    assert await enrollments.open_enrollment(officer.id, now=now + timedelta(hours=25)) is None
    assert officer.id not in await enrollments.open_enrollments(now=now + timedelta(hours=25))


async def test_only_the_token_hash_is_stored(database):
    officer = await officers.create("Đỗ Văn Sáu", officers.HEALTH)
    raw = await enrollments.issue_enrollment(officer.id)
    rows = await EnrollmentLink.select(EnrollmentLink.token_hash).where(
        EnrollmentLink.officer == officer.id)
    assert rows and all(raw not in row["token_hash"] for row in rows)


async def test_enrollment_link_is_single_use(database):
    officer = await officers.create("Đỗ Văn Bảy", officers.HEALTH)
    raw = await enrollments.issue_enrollment(officer.id)
    found = await enrollments.find_enrollment(raw)
    assert await enrollments.use_enrollment(found.link_id) is True
    assert await enrollments.use_enrollment(found.link_id) is False
    assert await enrollments.find_enrollment(raw) is None
    assert await enrollments.open_enrollment(officer.id) is None


async def test_only_the_newest_link_works(database):
    officer = await officers.create("Đỗ Văn Tám", officers.HEALTH)
    first = await enrollments.issue_enrollment(officer.id)
    second = await enrollments.issue_enrollment(officer.id)
    assert await enrollments.find_enrollment(first) is None
    assert await enrollments.find_enrollment(second) is not None


async def test_revoke_links(database):
    officer = await officers.create("Đỗ Văn Chín", officers.HEALTH)
    raw = await enrollments.issue_enrollment(officer.id, created_by=None)
    assert await enrollments.revoke_enrollments(officer.id) == 1
    assert await enrollments.find_enrollment(raw) is None
    assert await enrollments.revoke_enrollments(officer.id) == 0
    assert "officer.revoke_link" in await actions_about(officer.id)


async def test_garbage_tokens_find_nothing(database):
    assert await enrollments.find_enrollment("") is None
    assert await enrollments.find_enrollment("x" * 500) is None
    assert await enrollments.find_enrollment("not-a-token") is None


async def test_no_link_for_a_disabled_or_unknown_officer(database):
    officer = await officers.create("Đỗ Văn Mười", officers.HEALTH)
    await officers.set_active(officer.id, False)
    with pytest.raises(InputError) as caught:
        await enrollments.issue_enrollment(officer.id)
    assert caught.value.code == "officer.disabled"
    with pytest.raises(officers.OfficerNotFound):
        await enrollments.issue_enrollment(99999999)


# --- disabling, last admin ---------------------------------------------------------------------

async def test_disable_ends_sessions_and_links(database):
    officer = await officers.create("Vũ Thị Hoa", officers.CHECKPOINT)
    raw_link = await enrollments.issue_enrollment(officer.id)
    session = await officers.start_session(officer.id)
    other = await officers.create("Vũ Thị Hồng", officers.CHECKPOINT)
    other_session = await officers.start_session(other.id)
    disabled = await officers.set_active(officer.id, False)
    assert disabled.active is False and not disabled.may("check")
    assert await sessions.load(session) is None
    assert await enrollments.find_enrollment(raw_link) is None
    row = await Officer.select(Officer.disabled_at).where(Officer.id == officer.id).first()
    assert row["disabled_at"] is not None
    assert await sessions.load(other_session) is not None
    enabled = await officers.set_active(officer.id, True)
    assert enabled.active and enabled.may("check")
    # re-enabling does not bring the old link back
    assert await enrollments.find_enrollment(raw_link) is None
    assert (await actions_about(officer.id))[-2:] == ["officer.disable", "officer.enable"]


async def test_last_active_admin_cannot_be_disabled_or_demoted(database):
    admin = await officers.create("Quản Trị Cuối", officers.ADMIN)
    async with only_admin(admin.id):
        assert await officers.count_active_admins() == 1
        with pytest.raises(InputError) as caught:
            await officers.set_active(admin.id, False)
        assert caught.value.code == "officer.last_admin"
        with pytest.raises(FormErrors) as form:
            await officers.update(admin.id, "Quản Trị Cuối", officers.HEALTH)
        assert form.value.errors["role"].code == "officer.last_admin_role"
        current = await officers.get(admin.id)
        assert current.active and current.role == officers.ADMIN
        # renaming the last admin is fine
        renamed = await officers.update(admin.id, "Quản Trị Đổi Tên", officers.ADMIN)
        assert renamed.name == "Quản Trị Đổi Tên"
        # with a second admin, the first may go
        second = await officers.create("Quản Trị Hai", officers.ADMIN)
        assert (await officers.set_active(admin.id, False)).active is False
        with pytest.raises(InputError):
            await officers.set_active(second.id, False)
        await Officer.update({Officer.active: False}).where(Officer.id == second.id)


async def test_role_change_ends_sessions_but_rename_does_not(database):
    officer = await officers.create("Bùi Văn Lực", officers.CHECKPOINT)
    session = await officers.start_session(officer.id)
    await officers.update(officer.id, "Bùi Văn Lực Mới", officers.CHECKPOINT)
    assert await sessions.load(session) is not None
    changed = await officers.update(officer.id, "Bùi Văn Lực Mới", officers.HEALTH)
    assert changed.role == officers.HEALTH
    assert await sessions.load(session) is None


async def test_update_unknown_officer(database):
    with pytest.raises(officers.OfficerNotFound):
        await officers.update(99999998, "Ai Đó", officers.HEALTH)
    with pytest.raises(officers.OfficerNotFound):
        await officers.set_active(99999998, False)


async def test_list_all_counts_passkeys_active_first(database):
    from khaibao.tables import Passkey

    officer = await officers.create("Aa Danh Sách", officers.HEALTH)
    for index in range(2):
        await Passkey.insert(Passkey(officer=officer.id, credential_id=f"cred-{officer.id}-{index}",
                                     public_key="pk", created_at=datetime.now(UTC),
                                     name=f"Khoá {index}"))
    disabled = await officers.create("Aa Đã Khoá", officers.HEALTH)
    await officers.set_active(disabled.id, False)
    views = await officers.list_all()
    by_id = {v.id: v for v in views}
    assert by_id[officer.id].passkey_count == 2
    actives = [v.active for v in views]
    assert actives == sorted(actives, reverse=True)
    keys = await officer_passkeys.list_for(officer.id)
    assert [k.name for k in keys] == ["Khoá 0", "Khoá 1"]


# --- scope and permissions ---------------------------------------------------------------------

def view(role: str, region_path: str | None = None, active: bool = True) -> OfficerView:
    return OfficerView(id=1, name="X", role=role, active=active, region_path=region_path)


def test_covers_scope():
    ward = "/VN/VN-46/VN-46-001/"
    local = view(officers.LOCAL, "/VN/VN-46/")
    assert local.covers(ward) and local.covers("/VN/VN-46/")
    assert not local.covers("/VN/VN-01/VN-01-002/")
    assert not local.covers(None) and not local.covers("")
    # a prefix of the code is not a parent: VN-4 does not cover VN-46
    assert not view(officers.LOCAL, "/VN/VN-4/").covers(ward)
    assert view(officers.ADMIN, "/VN/VN-01/").covers(ward)
    assert view(officers.HEALTH).covers(ward) and view(officers.HEALTH).covers(None)


@pytest.mark.parametrize("role", officers.ROLES)
def test_may_follows_the_permission_table(role):
    officer = view(role)
    for permission, roles in officers.PERMISSIONS.items():
        assert officer.may(permission) is (role in roles)
    assert not officer.may("no-such-permission")
    assert not view(role, active=False).may("check")


def test_permission_table_essentials():
    may = {role: {p for p in officers.PERMISSIONS if view(role).may(p)} for role in officers.ROLES}
    assert {"officers", "checkpoints", "policies"} <= may[officers.ADMIN]
    # "self" (one's own passkeys) may be open to every role
    assert may[officers.VENUE] - {"self"} == {"venues"}
    assert "officers" not in may[officers.LOCAL] and "arrivals" in may[officers.LOCAL]
    assert "check" in may[officers.CHECKPOINT] and "arrivals" not in may[officers.CHECKPOINT]
    assert all(role in officers.ROLE_LABELS for role in officers.ROLES)
