"""What health and arrival declarations share: a submission covers several persons, all or
nothing, and is idempotent. Row *n* of a submission is stored with ``client_ref``
``{ref}:{n}``, so a double tap or an offline replay finds the first submission instead of
adding one.

A submission without an account (``account_id=None``) comes from an officer (assisted or
paper entry, ``officer_id`` set) or a kiosk without a phone (``officer_id`` None): it may name
any existing person, and its replay is found by the officer instead of the account."""

from __future__ import annotations

import re
from typing import Any

from piccolo.table import Table

from khaibao.citizens import people
from khaibao.core import db
from khaibao.core.errors import FormErrors, InputError

CLIENT_REF = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Who sent a declaration: the phone's owner, a relative from that phone, an officer with the
# citizen present or from a paper form, a checkpoint kiosk.
CHANNELS = ("self", "relative", "assisted", "paper", "kiosk")


def is_client_ref(value: object) -> bool:
    return isinstance(value, str) and CLIENT_REF.fullmatch(value) is not None


def channel_for(channel: str, is_owner: bool) -> str:
    """Citizens declare for themselves ("self") or a relative; officers pass their channel."""
    if channel in ("self", "relative"):
        return "self" if is_owner else "relative"
    return channel


def _submitter(account_id: int | None, officer_id: int | None) -> tuple[str, list]:
    """Whose rows (SQL and its values): the account's, or (no account) this officer's / a
    kiosk's."""
    if account_id is not None:
        return "account = {}", [account_id]
    if officer_id is None:
        return "account IS NULL AND officer_id IS NULL", []
    return "account IS NULL AND officer_id = {}", [officer_id]


async def rows_of(table: type[Table], account_id: int | None, client_ref: str, *,
                  officer_id: int | None = None) -> list[dict[str, Any]]:
    """This account's rows of the submission ``client_ref``, in order (empty when none)."""
    if not is_client_ref(client_ref):
        return []
    who, values = _submitter(account_id, officer_id)
    rows = await db.fetch(
        f"SELECT id, person, client_ref, submitted_at FROM {table._meta.tablename} "  # noqa: S608
        f"WHERE {who} AND client_ref LIKE {{}}", *values, f"{client_ref}:%")
    # LIKE treats "_" as a wildcard and may ignore case: keep the exact matches only.
    mine = sorted(((int(r["client_ref"].rpartition(":")[2]), r) for r in rows
                   if r["client_ref"].rpartition(":")[0] == client_ref), key=lambda t: t[0])
    if not mine or mine[0][0] != 0:
        return []
    return [{**row, "submitted_at": db.aware(row["submitted_at"])} for _n, row in mine]


async def replayed_rows(table: type[Table], account_id: int | None, client_ref: str,
                        refusal: InputError, *, officer_id: int | None = None
                        ) -> list[dict[str, Any]]:
    """The rows of an earlier submission with this reference (empty when there is none);
    FormErrors ``client_ref`` when the reference is another account's.

    Existence first, then the account's rows: rows are only ever added, so a submission seen
    to exist is also seen by the second read (the other order races a concurrent writer
    committing in between and mistakes our own submission for another account's)."""
    first = f"{client_ref}:0"
    if not await db.fetch(f"SELECT 1 FROM {table._meta.tablename} "  # noqa: S608 (our name)
                          "WHERE client_ref = {}", first):
        return []
    rows = await rows_of(table, account_id, client_ref, officer_id=officer_id)
    if not rows:
        # Another account's reference: refuse, and never show its data.
        raise FormErrors({"client_ref": refusal})
    return rows


async def person_views(account_id: int | None, person_ids: list[int], settings
                       ) -> dict[int, people.PersonView]:
    """The views of a submission's persons: the account's, or (no account) those named."""
    if account_id is None:
        return {v.id: v for v in await people.persons_by_ids(person_ids, settings)}
    return {v.id: v for v in await people.persons_of(account_id, settings)}


async def lock_account(account_id: int | None) -> None:
    """Inside a write transaction: submissions from one phone run one after the other.
    Without an account, concurrent duplicates meet at the unique ``client_ref``."""
    if account_id is None:
        return
    # SQLite's BEGIN IMMEDIATE already holds the lock; PostgreSQL locks the account's row.
    lock = "" if db.is_sqlite() else " FOR UPDATE"
    if not await db.fetch("SELECT id FROM account WHERE id = {}" + lock,  # noqa: S608
                          account_id):
        raise LookupError(f"no account {account_id}")


async def named_persons(account_id: int | None, person_ids: list[int]
                        ) -> dict[int, dict[str, Any]]:
    """id → row (id, is_owner, region) of the persons a submission may name: the account's
    own, or without an account (officer, kiosk) the existing persons among ``person_ids``."""
    if account_id is None:
        if not person_ids:
            return {}
        rows = await db.fetch("SELECT id, is_owner, region FROM person "  # noqa: S608
                              f"WHERE id IN ({db.marks(len(person_ids))})", *person_ids)
    else:
        rows = await db.fetch("SELECT id, is_owner, region FROM person WHERE account = {}",
                              account_id)
    return {r["id"]: r for r in rows}


async def replayed(make, account_id: int | None, client_ref: str, rows: list[dict[str, Any]],
                   settings):
    """``make(client_ref, submitted_at, row ids, persons, replayed=True)`` for the rows of an
    earlier submission, or None when there are none."""
    if not rows:
        return None
    views = await person_views(account_id, [r["person"] for r in rows], settings)
    return make(client_ref, rows[0]["submitted_at"], [r["id"] for r in rows],
                [views[r["person"]] for r in rows if r["person"] in views], True)
