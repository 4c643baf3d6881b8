"""API keys of national systems reading the read-only JSON API (/api/v1/…).

A key is ``kb_`` + 40 random URL-safe characters, shown once when created; only its SHA-256
is stored (a fast hash is right here: the key is long and random, unlike a password), with
its first 12 characters (``prefix``) to tell keys apart in lists. A key may be limited to a
region subtree; revoking is immediate and cannot be undone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.core import audit, clock
from khaibao.core.db import aware
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.i18n import N_
from khaibao.tables import ApiKey, Region

KEY_PREFIX = "kb_"
PREFIX_LENGTH = 12
USE_STAMP_SECONDS = 60  # last_used_at is written at most once a minute per key

_ERRORS = {
    "api_key.name_required": N_("Vui lòng đặt tên cho khoá (hệ thống nào dùng khoá này)."),
    "api_key.name_length": N_("Tên khoá dài từ 2 đến 100 ký tự."),
    "api_key.region_unknown": N_("Không tìm thấy địa bàn này."),
}


error = error_maker(_ERRORS)


@dataclass(frozen=True)
class KeyView:
    id: int
    name: str
    prefix: str
    region_code: str | None
    region_path: str
    region_name: str
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def covers(self, path: str | None) -> bool:
        return not self.region_path or bool(path and path.startswith(self.region_path))


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_COLUMNS = (ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.region_path, ApiKey.created_at,
            ApiKey.last_used_at, ApiKey.revoked_at, ApiKey.region.code.as_alias("region_code"),
            ApiKey.region.name.as_alias("region_name"))


def _view(row: dict[str, Any]) -> KeyView:
    return KeyView(row["id"], row["name"], row["prefix"], row["region_code"],
                   row["region_path"] or "", row["region_name"] or "",
                   aware(row["created_at"]), aware(row["last_used_at"]),
                   aware(row["revoked_at"]))


async def list_all() -> list[KeyView]:
    rows = await ApiKey.select(*_COLUMNS).order_by(ApiKey.id, ascending=False).run()
    return sorted((_view(r) for r in rows), key=lambda k: (not k.active, -k.id))


async def create(name: str, region_code: str | None, *, created_by: int | None,
                 now: datetime | None = None) -> tuple[str, KeyView]:
    """A new key: (the raw key — show it once, it is not kept —, its view)."""
    name = " ".join((name or "").split())
    errors: dict[str, InputError] = {}
    if not name:
        errors["name"] = error("api_key.name_required")
    elif not 2 <= len(name) <= 100:
        errors["name"] = error("api_key.name_length")
    region_id, path = None, ""
    if region_code:
        row = await Region.select(Region.id, Region.path).where(
            Region.code == region_code).first().run()
        if row is None:
            errors["region"] = error("api_key.region_unknown")
        else:
            region_id, path = row["id"], row["path"]
    if errors:
        raise FormErrors(errors)
    raw = KEY_PREFIX + secrets.token_urlsafe(30)
    rows = await ApiKey.insert(ApiKey(
        name=name, prefix=raw[:PREFIX_LENGTH], key_hash=hash_key(raw), region=region_id,
        region_path=path, created_by=created_by, created_at=now or clock.now(),
    )).returning(ApiKey.id).run()
    key_id = rows[0]["id"]
    await audit.record("api_key.create", actor_kind="officer" if created_by else "system",
                       actor_id=created_by, detail={"api_key": key_id,
                                                    "region": region_code or "*"})
    view = await get(key_id)
    assert view is not None  # inserted just above
    return raw, view


async def get(key_id: int) -> KeyView | None:
    row = await ApiKey.select(*_COLUMNS).where(ApiKey.id == key_id).first().run()
    return _view(row) if row else None


async def revoke(key_id: int, *, by: int | None, now: datetime | None = None) -> bool:
    """Revoke a key (False when there is no such active key)."""
    now = now or clock.now()
    rows = await ApiKey.update({ApiKey.revoked_at: now}).where(
        (ApiKey.id == key_id) & ApiKey.revoked_at.is_null()).returning(ApiKey.id).run()
    if rows:
        await audit.record("api_key.revoke", actor_kind="officer" if by else "system",
                           actor_id=by, detail={"api_key": key_id}, now=now)
    return bool(rows)


async def authenticate(raw: str | None, *, now: datetime | None = None) -> KeyView | None:
    """The active key for an ``Authorization: Bearer`` value, or None."""
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    row = await ApiKey.select(*_COLUMNS).where(
        (ApiKey.key_hash == hash_key(raw)) & ApiKey.revoked_at.is_null()).first().run()
    if row is None:
        return None
    view = _view(row)
    now = now or clock.now()
    if view.last_used_at is None or (now - view.last_used_at).total_seconds() > USE_STAMP_SECONDS:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == view.id).run()
    return view
