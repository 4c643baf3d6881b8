"""Officers (cán bộ): roles, scope, and what each role may do.

There are no passwords and no default account: the first admin comes from
``khaibao create-admin --name NAME`` (a one-time enrollment link), every other officer from an
admin. Enrollment links live in ``enrollments.py``, passkeys in ``passkeys.py``.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from khaibao.core import audit, clock, db, sessions
from khaibao.core.db import aware
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.tables import Checkpoint, EnrollmentLink, Officer, Passkey, Region

ADMIN, CHECKPOINT, HEALTH, LOCAL, VENUE = "admin", "checkpoint", "health", "local", "venue"
ROLES = (ADMIN, CHECKPOINT, HEALTH, LOCAL, VENUE)
ROLE_LABELS = {
    ADMIN: N_("Quản trị viên"),
    CHECKPOINT: N_("Cán bộ chốt kiểm soát"),
    HEALTH: N_("Cán bộ cơ sở y tế"),
    LOCAL: N_("Cán bộ địa phương"),
    VENUE: N_("Nhân viên điểm đến"),
}
# What each role may do. A permission not listed here is refused for everyone.
PERMISSIONS: dict[str, frozenset[str]] = {
    "check": frozenset({ADMIN, CHECKPOINT, HEALTH, LOCAL}),  # look a person up, record a pass
    "assist": frozenset({ADMIN, CHECKPOINT, HEALTH}),  # enter a declaration for someone
    "kiosk": frozenset({ADMIN, CHECKPOINT}),  # turn a device into a checkpoint kiosk
    "arrivals": frozenset({ADMIN, LOCAL}),  # arrivals into an area, exports
    "policies": frozenset({ADMIN}),
    "officers": frozenset({ADMIN}),
    "checkpoints": frozenset({ADMIN}),
    "venues": frozenset({ADMIN, VENUE}),
    "trace": frozenset({ADMIN, HEALTH}),  # contact tracing, venue "point" policies
    "retention": frozenset({ADMIN}),  # read the deletion reports
    "self": frozenset(ROLES),  # manage one's own passkeys
    "dashboard": frozenset({ADMIN, LOCAL, HEALTH}),  # the overview with charts
    "exports": frozenset({ADMIN, LOCAL}),  # CSV of declarations, arrivals, check-ins (rows)
    "api_keys": frozenset({ADMIN}),  # keys of the read-only API for national systems
    "audit": frozenset({ADMIN}),  # the audit log viewer
    "regions": frozenset({ADMIN}),  # the region tree: import, rename, merge; BHYT import
    "admin_home": frozenset({ADMIN}),  # /quan-tri, which leads to the dashboard
}

SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(minutes=30)
SESSION_KIND = "officer"

_ERRORS = {
    "officer.name_required": N_("Vui lòng nhập họ và tên cán bộ."),
    "officer.name_length": N_("Họ và tên dài từ 2 đến 100 ký tự."),
    "officer.role_invalid": N_("Vui lòng chọn vai trò."),
    "officer.region_required": N_("Cán bộ địa phương cần có địa bàn phụ trách."),
    "officer.region_unknown": N_("Không tìm thấy địa bàn này."),
    "officer.checkpoint_unknown": N_("Không tìm thấy chốt kiểm soát này."),
    "officer.last_admin": N_("Không thể khoá quản trị viên cuối cùng đang hoạt động."),
    "officer.last_admin_role": N_("Không thể đổi vai trò của quản trị viên cuối cùng đang hoạt "
                                  "động. Hãy tạo thêm một quản trị viên khác trước."),
    "officer.disabled": N_("Cán bộ này đang bị khoá. Hãy mở khoá trước khi cấp liên kết."),
}


error = error_maker(_ERRORS)


class OfficerNotFound(LookupError):
    """No officer with this id."""


@dataclass(frozen=True)
class OfficerView:
    id: int
    name: str
    role: str
    active: bool
    region_code: str | None = None
    region_path: str | None = None
    region_name: str = ""
    checkpoint_id: int | None = None
    checkpoint_name: str = ""
    created_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    passkey_count: int = 0

    @property
    def role_label(self) -> str:
        """Marked with ``N_``: translate where shown."""
        return ROLE_LABELS[self.role]

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def may(self, permission: str) -> bool:
        return self.active and self.role in PERMISSIONS.get(permission, frozenset())

    def covers(self, region_path: str | None) -> bool:
        """Whether a region (by its path) lies in this officer's scope. Admins and officers
        without a region see everything; others only their subtree."""
        if self.is_admin or not self.region_path:
            return True
        return bool(region_path and region_path.startswith(self.region_path))

    @property
    def place(self) -> str:
        """Where this officer works, for audit entries and what citizens see."""
        return self.checkpoint_name or self.region_name or ""


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


_COLUMNS = (
    Officer.id, Officer.name, Officer.role, Officer.active, Officer.created_at,
    Officer.last_sign_in_at, Officer.checkpoint.id.as_alias("checkpoint_id"),
    Officer.checkpoint.name.as_alias("checkpoint_name"),
    Officer.region.code.as_alias("region_code"), Officer.region.path.as_alias("region_path"),
    Officer.region.name.as_alias("region_name"),
)


def _view(row: dict[str, Any], passkey_count: int = 0) -> OfficerView:
    return OfficerView(
        id=row["id"], name=row["name"], role=row["role"], active=bool(row["active"]),
        region_code=row["region_code"], region_path=row["region_path"],
        region_name=row["region_name"] or "", checkpoint_id=row["checkpoint_id"],
        checkpoint_name=row["checkpoint_name"] or "", created_at=aware(row["created_at"]),
        last_sign_in_at=aware(row["last_sign_in_at"]), passkey_count=passkey_count,
    )


def view_of(row: dict[str, Any]) -> OfficerView:
    """An officer from a row with ``_COLUMNS``' names (the session guard joins it itself)."""
    return _view(row)


async def get(officer_id: int) -> OfficerView | None:
    row = await Officer.select(*_COLUMNS).where(Officer.id == officer_id).first()
    return _view(row) if row else None


async def _read_back(officer_id: int) -> OfficerView:
    """The officer just written, as :func:`get` reads it."""
    view = await get(officer_id)
    assert view is not None  # written by the caller a moment ago
    return view


async def list_all() -> list[OfficerView]:
    """Every officer, active ones first, by name, with how many passkeys each has."""
    rows = await Officer.select(*_COLUMNS)
    counts: dict[int, int] = {}
    for item in await Passkey.select(Passkey.officer, Passkey.id):
        counts[item["officer"]] = counts.get(item["officer"], 0) + 1
    views = [_view(row, counts.get(row["id"], 0)) for row in rows]
    return sorted(views, key=lambda v: (not v.active, v.name.casefold(), v.id))


async def count_active_admins() -> int:
    return await Officer.count().where((Officer.role == ADMIN) & (Officer.active == True))  # noqa: E712


def _clean_name(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


async def _checked(name: str, role: str, region_code: str | None, checkpoint_id: int | None
                   ) -> dict[str, Any]:
    """The officer's columns from form values, or FormErrors naming every bad field."""
    errors: dict[str, InputError] = {}
    name = _clean_name(name)
    if not name:
        errors["name"] = error("officer.name_required")
    elif not 2 <= len(name) <= 100:
        errors["name"] = error("officer.name_length")
    if role not in ROLES:
        errors["role"] = error("officer.role_invalid")
    region_id = None
    if region_code:
        row = await Region.select(Region.id).where(Region.code == region_code).first()
        if row is None:
            errors["region"] = error("officer.region_unknown")
        else:
            region_id = row["id"]
    elif role == LOCAL:
        errors["region"] = error("officer.region_required")
    if checkpoint_id is not None:
        exists = await Checkpoint.exists().where(Checkpoint.id == checkpoint_id)
        if not exists:
            errors["checkpoint"] = error("officer.checkpoint_unknown")
    if errors:
        raise FormErrors(errors)
    return {"name": name, "role": role, "region": region_id, "checkpoint": checkpoint_id}


async def create(name: str, role: str, *, region_code: str | None = None,
                 checkpoint_id: int | None = None, created_by: int | None = None,
                 now: datetime | None = None) -> OfficerView:
    """A new, active officer without passkeys (issue an enrollment link next)."""
    values = await _checked(name, role, region_code, checkpoint_id)
    rows = await Officer.insert(Officer(
        **values, active=True, user_handle=secrets.token_urlsafe(32), created_at=_now(now),
        created_by=created_by,
    )).returning(Officer.id)
    officer_id = rows[0]["id"]
    await audit.record("officer.create", actor_kind="officer" if created_by else "system",
                       actor_id=created_by, detail={"officer": officer_id, "role": role})
    return await _read_back(officer_id)


async def update(officer_id: int, name: str, role: str, *, region_code: str | None = None,
                 checkpoint_id: int | None = None, by: int | None = None) -> OfficerView:
    current = await get(officer_id)
    if current is None:
        raise OfficerNotFound(officer_id)
    values = await _checked(name, role, region_code, checkpoint_id)
    async with db.write_transaction():
        # Checked and written in one transaction: two admins demoting each other at once
        # cannot leave nobody.
        if (current.is_admin and current.active and role != ADMIN
                and await count_active_admins() <= 1):
            raise FormErrors({"role": error("officer.last_admin_role")})
        await Officer.update(**values).where(Officer.id == officer_id)
    if role != current.role:
        # A new role must not ride on sessions opened under the old one.
        await sessions.end_all(SESSION_KIND, officer_id)
    await audit.record("officer.update", actor_kind="officer" if by else "system", actor_id=by,
                       detail={"officer": officer_id, "role": role,
                               "previous_role": current.role})
    return await _read_back(officer_id)


async def set_active(officer_id: int, active: bool, *, by: int | None = None,
                     now: datetime | None = None) -> OfficerView:
    """Disable (ends every session and open enrollment link at once) or re-enable."""
    current = await get(officer_id)
    if current is None:
        raise OfficerNotFound(officer_id)
    now = _now(now)
    async with db.write_transaction():
        if (not active and current.is_admin and current.active
                and await count_active_admins() <= 1):
            raise error("officer.last_admin")
        await Officer.update({Officer.active: active,
                              Officer.disabled_at: None if active else now}
                             ).where(Officer.id == officer_id)
        if not active:
            await EnrollmentLink.update({EnrollmentLink.revoked_at: now}).where(
                (EnrollmentLink.officer == officer_id) & EnrollmentLink.used_at.is_null()
                & EnrollmentLink.revoked_at.is_null())
    if not active:
        await sessions.end_all(SESSION_KIND, officer_id)
    await audit.record("officer.enable" if active else "officer.disable",
                       actor_kind="officer" if by else "system",
                       actor_id=by, detail={"officer": officer_id}, now=now)
    return await _read_back(officer_id)


async def record_sign_in(officer_id: int, *, now: datetime | None = None) -> None:
    await Officer.update({Officer.last_sign_in_at: _now(now)}).where(Officer.id == officer_id)


async def user_handle(officer_id: int) -> str:
    row = await Officer.select(Officer.user_handle).where(Officer.id == officer_id).first()
    if row is None:
        raise OfficerNotFound(officer_id)
    return row["user_handle"]


async def by_user_handle(handle: str) -> OfficerView | None:
    row = await Officer.select(Officer.id).where(Officer.user_handle == handle).first()
    return await get(row["id"]) if row else None


# --- sessions ----------------------------------------------------------------------------------

async def start_session(officer_id: int, *, data: dict | None = None,
                        now: datetime | None = None) -> str:
    """A fresh officer session id (12 h, 30 min idle) for the cookie."""
    return await sessions.start(SESSION_KIND, officer_id, lifetime=SESSION_LIFETIME,
                                idle=SESSION_IDLE, data=data, now=now)
