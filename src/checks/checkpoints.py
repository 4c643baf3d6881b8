"""Checkpoints (chốt kiểm soát) as admins manage them: list, add, edit, deactivate.

``arrivals.checkpoints()`` is what citizens and officers choose from (the active ones); this
module is the admin side, with validation errors per field and an audit entry per change.
A checkpoint is never deleted: arrival declarations and recorded passes point at it.
Names are unique (ignoring case and repeated spaces, not diacritics: "Ga Huế" and "Ga Hué" are
different places), paused checkpoints included, so no two options in the citizens', kiosks'
and officers' checkpoint lists look the same.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from khaibao.core import audit, clock, db
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.tables import Checkpoint, Region
from khaibao.vn import collation
from khaibao.vn.collation import name_taken

MAX_NAME = 120
MAX_PLACE = 200

_ERRORS = {
    "checkpoint.name_required": N_("Vui lòng nhập tên chốt kiểm soát."),
    "checkpoint.name_length": N_("Tên chốt dài tối đa 120 ký tự."),
    "checkpoint.place_length": N_("Địa điểm dài tối đa 200 ký tự."),
    "checkpoint.region_unknown": N_("Không tìm thấy địa bàn này."),
    "checkpoint.name_taken": N_("Đã có chốt kiểm soát tên này."),
}
NAMES_LOCK = "checkpoint.names"


error = error_maker(_ERRORS)


class CheckpointNotFound(LookupError):
    """No checkpoint with this id."""


@dataclass(frozen=True)
class CheckpointAdminView:
    id: int
    name: str
    place: str
    active: bool
    region_code: str | None
    region_name: str
    created_at: datetime | None


_COLUMNS = (
    Checkpoint.id, Checkpoint.name, Checkpoint.place, Checkpoint.active, Checkpoint.created_at,
    Checkpoint.region.code.as_alias("region_code"), Checkpoint.region.name.as_alias("region_name"),
)


def _view(row: dict[str, Any]) -> CheckpointAdminView:
    created = row["created_at"]
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return CheckpointAdminView(row["id"], row["name"], row["place"] or "", bool(row["active"]),
                               row["region_code"], row["region_name"] or "", created)


def _clean(raw: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


async def _name_taken(name: str, *, other_than: int | None = None) -> bool:
    rows = await Checkpoint.select(Checkpoint.id, Checkpoint.name)
    return name_taken(name, rows, other_than=other_than)


async def list_all() -> list[CheckpointAdminView]:
    """Every checkpoint, active ones first, by name."""
    views = [_view(row) for row in await Checkpoint.select(*_COLUMNS)]
    return sorted(views, key=lambda v: (not v.active, collation.sort_key(v.name), v.id))


async def get(checkpoint_id: int) -> CheckpointAdminView | None:
    row = await Checkpoint.select(*_COLUMNS).where(Checkpoint.id == checkpoint_id).first()
    return _view(row) if row else None


async def _read_back(checkpoint_id: int) -> CheckpointAdminView:
    """The checkpoint just written, as :func:`get` reads it."""
    view = await get(checkpoint_id)
    assert view is not None  # written by the caller a moment ago
    return view


async def _checked(name: str, region_code: str | None, place: str, *,
                   checkpoint_id: int | None = None) -> dict[str, Any]:
    """The values to store, or FormErrors naming every bad field. Run inside the write
    transaction that stores them, after ``db.lock(NAMES_LOCK)``: the name check then holds
    against a concurrent add or rename."""
    errors: dict[str, InputError] = {}
    name, place = _clean(name), _clean(place)
    if not name:
        errors["name"] = error("checkpoint.name_required")
    elif len(name) > MAX_NAME:
        errors["name"] = error("checkpoint.name_length")
    elif await _name_taken(name, other_than=checkpoint_id):
        errors["name"] = error("checkpoint.name_taken")
    if len(place) > MAX_PLACE:
        errors["place"] = error("checkpoint.place_length")
    region_id = None
    if region_code:
        row = await Region.select(Region.id).where(Region.code == region_code).first()
        if row is None:
            errors["region"] = error("checkpoint.region_unknown")
        else:
            region_id = row["id"]
    if errors:
        raise FormErrors(errors)
    return {"name": name, "region": region_id, "place": place}


async def create(name: str, *, region_code: str | None = None, place: str = "",
                 by: int | None = None, now: datetime | None = None) -> CheckpointAdminView:
    """A new, active checkpoint; ``FormErrors`` naming every bad field."""
    async with db.write_transaction():
        await db.lock(NAMES_LOCK)
        values = await _checked(name, region_code, place)
        rows = await Checkpoint.insert(Checkpoint(
            **values, active=True, created_at=now or clock.now(),
        )).returning(Checkpoint.id)
    checkpoint_id = rows[0]["id"]
    await audit.record("checkpoint.create", actor_kind="officer" if by else "system",
                       actor_id=by, detail={"checkpoint": checkpoint_id}, now=now)
    return await _read_back(checkpoint_id)


async def update(checkpoint_id: int, name: str, *, region_code: str | None = None,
                 place: str = "", by: int | None = None) -> CheckpointAdminView:
    if not await Checkpoint.exists().where(Checkpoint.id == checkpoint_id):
        raise CheckpointNotFound(checkpoint_id)
    async with db.write_transaction():
        await db.lock(NAMES_LOCK)
        values = await _checked(name, region_code, place, checkpoint_id=checkpoint_id)
        await Checkpoint.update(**values).where(Checkpoint.id == checkpoint_id)
    await audit.record("checkpoint.update", actor_kind="officer" if by else "system",
                       actor_id=by, detail={"checkpoint": checkpoint_id})
    return await _read_back(checkpoint_id)


async def set_active(checkpoint_id: int, active: bool, *, by: int | None = None
                     ) -> CheckpointAdminView:
    """Deactivate (no longer offered to citizens and officers) or reactivate."""
    if not await Checkpoint.exists().where(Checkpoint.id == checkpoint_id):
        raise CheckpointNotFound(checkpoint_id)
    await Checkpoint.update({Checkpoint.active: active}).where(Checkpoint.id == checkpoint_id)
    await audit.record("checkpoint.enable" if active else "checkpoint.disable",
                       actor_kind="officer" if by else "system", actor_id=by,
                       detail={"checkpoint": checkpoint_id})
    return await _read_back(checkpoint_id)
