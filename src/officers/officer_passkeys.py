"""An officer's own passkeys ("Passkey của tôi"): their names, the list, renaming and revoking.
The WebAuthn ceremonies that add a passkey and sign in with one are passkeys.py.

Names are unique per officer (ignoring case and repeated spaces): a new passkey without a
name is called after the day it was added, numbered when that name is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from khaibao.core import audit, clock, db, sessions
from khaibao.core.db import aware
from khaibao.core.errors import error_maker
from khaibao.core.i18n import N_
from khaibao.officers import officers
from khaibao.tables import Passkey
from khaibao.vn.collation import name_key, name_taken

NAME_MAX = 60

_ERRORS = {
    "passkey.name_length": N_("Tên passkey dài từ 1 đến 60 ký tự."),
    "passkey.name_taken": N_("Bạn đã có passkey tên này. Hãy đặt tên khác để phân biệt."),
    "passkey.not_found": N_("Không tìm thấy passkey này."),
    "passkey.last": N_("Không thể thu hồi passkey cuối cùng: bạn sẽ không đăng nhập được nữa. "
                       "Hãy thêm passkey khác trước."),
}


error = error_maker(_ERRORS)


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


@dataclass(frozen=True)
class PasskeyView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    transports: str


# --- names -------------------------------------------------------------------------------------

def default_name(now: datetime | None = None) -> str:
    from khaibao.core.clock import LOCAL_TIMEZONE

    return "Passkey " + _now(now).astimezone(LOCAL_TIMEZONE).strftime("%d/%m/%Y")


def clean_name(raw: str | None, now: datetime | None = None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        return default_name(now)
    if len(name) > NAME_MAX:
        raise error("passkey.name_length")
    return name


async def names(officer_id: int) -> set[str]:
    """The name keys of the officer's passkeys."""
    rows = await Passkey.select(Passkey.name).where(Passkey.officer == officer_id)
    return {name_key(row["name"]) for row in rows}


def numbered(name: str, taken: set[str]) -> str:
    """``name``, or "name (2)", "name (3)", … — the first that is not taken."""
    number, candidate = 1, name
    while name_key(candidate) in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[:NAME_MAX - len(suffix)].rstrip() + suffix
    return candidate


async def suggested_name(officer_id: int, now: datetime | None = None) -> str:
    """The name offered for a new passkey: today's date, numbered when already used."""
    return numbered(default_name(now), await names(officer_id))


async def check_new_name(officer_id: int, raw: str | None) -> None:
    """Before a registration ceremony: InputError when the typed name is too long or another
    of the officer's passkeys has it (an empty name is given one automatically)."""
    name = clean_name(raw) if (raw or "").strip() else ""
    if name and name_key(name) in await names(officer_id):
        raise error("passkey.name_taken")


# --- the list ----------------------------------------------------------------------------------

async def list_for(officer_id: int) -> list[PasskeyView]:
    rows = await Passkey.select(
        Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at, Passkey.transports,
    ).where(Passkey.officer == officer_id).order_by(Passkey.id)
    return [PasskeyView(r["id"], r["name"], aware(r["created_at"]),
                        aware(r["last_used_at"]) if r["last_used_at"] else None,
                        r["transports"]) for r in rows]


async def get_for(officer_id: int, passkey_id: int) -> PasskeyView:
    for item in await list_for(officer_id):
        if item.id == passkey_id:
            return item
    raise error("passkey.not_found")


def names_lock(officer_id: int) -> str:
    return f"passkey.names.{officer_id}"


async def rename(officer_id: int, passkey_id: int, name: str) -> PasskeyView:
    """InputError for a name too long or empty, or one another of the officer's passkeys has
    (ignoring case and repeated spaces)."""
    cleaned = " ".join((name or "").split())
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise error("passkey.name_length")
    async with db.write_transaction():
        await db.lock(names_lock(officer_id))
        rows = await Passkey.select(Passkey.id, Passkey.name).where(
            Passkey.officer == officer_id)
        if passkey_id not in {row["id"] for row in rows}:
            raise error("passkey.not_found")
        if name_taken(cleaned, rows, other_than=passkey_id):
            raise error("passkey.name_taken")
        await Passkey.update({Passkey.name: cleaned}).where(Passkey.id == passkey_id)
    return await get_for(officer_id, passkey_id)


async def revoke(officer_id: int, passkey_id: int, *, keep_session: str | None = None,
                 now: datetime | None = None) -> int:
    """Remove one of the officer's passkeys, never the last one (an officer without a passkey
    cannot sign in again until an admin hands out a new enrollment link), and sign the
    officer out everywhere but the session ``keep_session`` (the cookie value of the device
    revoking it): a passkey is revoked because a phone was lost, and that phone may still
    hold a session opened with it. How many sessions were ended."""
    async with db.write_transaction():
        ids = [r["id"] for r in await Passkey.select(Passkey.id).where(
            Passkey.officer == officer_id)]
        if passkey_id not in ids:
            raise error("passkey.not_found")
        if len(ids) <= 1:
            raise error("passkey.last")
        await Passkey.delete().where(Passkey.id == passkey_id)
    ended = await sessions.end_others(officers.SESSION_KIND, officer_id, keep_session)
    await audit.record("passkey.revoke", actor_kind="officer", actor_id=officer_id,
                       detail={"passkey": passkey_id, "sessions_ended": ended}, now=now)
    return ended
