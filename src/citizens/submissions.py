"""What health and arrival declarations share: a submission covers several persons, all or
nothing, and is idempotent. Row *n* of a submission is stored with ``client_ref``
``{ref}:{n}``, so a double tap or an offline replay finds the first submission instead of
adding one.

Each phone may send ``settings.declarations_per_hour`` submissions an hour (the shared
rate-limit store, so across processes); a replay never counts.

A submission without an account (``account_id=None``) comes from an officer (assisted or
paper entry, ``officer_id`` set) or a kiosk without a phone (``officer_id`` None): it may name
any existing person, and its replay is found by the officer instead of the account."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.table import Table

from khaibao.citizens import people
from khaibao.citizens.person_input import PersonData
from khaibao.core import clock, db, rate_limits
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import N_

CLIENT_REF = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Who sent a declaration: the phone's owner, a relative from that phone, an officer with the
# citizen present or from a paper form, a checkpoint kiosk.
CHANNELS = ("self", "relative", "assisted", "paper", "kiosk")
_ERRORS = {
    "no_person": N_("Hãy chọn hoặc thêm ít nhất một người để khai báo."),
    "person_unknown": N_("Có người được chọn không thuộc danh sách của bạn. Hãy tải lại trang."),
    "client_ref_invalid": N_("Biểu mẫu không hợp lệ. Hãy tải lại trang rồi gửi lại."),
}
DECLARATIONS_WINDOW_SECONDS = 3600
_TOO_MANY = N_("Số điện thoại này đã gửi quá nhiều khai báo trong một giờ. Hãy gửi lại sau "
               "%(minutes)d phút; những gì bạn đã nhập vẫn được giữ.")


@dataclass(frozen=True)
class Kind:
    """What differs between a health declaration and an arrival in a submission."""

    name: str  # "declaration" or "arrival": the prefix of the error codes
    table: type[Table]
    # The submission's view: make(client_ref, submitted_at, row ids, persons, replayed).
    make: Callable[..., Any]


def error(kind: Kind, code: str) -> InputError:
    """``{kind}.{code}``: a health declaration and an arrival say the same words."""
    return InputError(f"{kind.name}.{code}", _ERRORS[code])


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


async def submission(kind: Kind, account_id: int | None, client_ref: str, settings, *,
                     officer_id: int | None = None) -> Any:
    """A past submission of this account (no account: of this officer, or of kiosks) by its
    ``client_ref`` (``replayed=True``); None when there is none — also when the reference is
    malformed or another account's."""
    rows = await rows_of(kind.table, account_id, client_ref, officer_id=officer_id)
    return await replayed(kind.make, account_id, client_ref, rows, settings)


async def _replay(kind: Kind, account_id: int | None, client_ref: str, settings,
                  officer_id: int | None) -> Any:
    rows = await replayed_rows(kind.table, account_id, client_ref,
                               error(kind, "client_ref_invalid"), officer_id=officer_id)
    return await replayed(kind.make, account_id, client_ref, rows, settings)


# check(errors) runs in the submission's transaction before any person is added: it adds the
# problems of the declaration's own fields to ``errors`` and returns what write() needs.
Check = Callable[[dict[str, InputError]], Awaitable[Any]]
# write(declared person ids, id → person row (id, is_owner, region), check's result, now):
# inserts row n of the submission as client_ref "{ref}:{n}" and returns the row ids in order.
Write = Callable[[list[int], dict[int, dict[str, Any]], Any, datetime], Awaitable[list[int]]]


async def submit(kind: Kind, account_id: int | None, *, person_ids: Sequence[int],
                 new_persons: Sequence[PersonData], client_ref: str, settings, channel: str,
                 officer_id: int | None, now: datetime | None, write: Write,
                 check: Check | None = None, one_transaction: bool = True) -> Any:
    """Declare for the chosen persons of the account and the new ones, all or nothing.

    Raises :class:`FormErrors`: ``client_ref`` (malformed, another account's, or the phone
    sent ``settings.declarations_per_hour`` submissions this hour),
    ``persons`` (none chosen, or one not of this account), what ``check`` finds,
    ``new{i}.{field}`` (a new person's ID is on this or another phone, unknown region).
    Submitting the same ``client_ref`` again returns the first submission with
    ``replayed=True``, also when two arrive at once. Without new persons and with
    ``one_transaction=False`` the rows are one INSERT, committed with other requests' writes.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if not is_client_ref(client_ref):
        raise FormErrors({"client_ref": error(kind, "client_ref_invalid")})
    chosen = list(dict.fromkeys(int(p) for p in person_ids))
    if not chosen and not new_persons:
        raise FormErrors({"persons": error(kind, "no_person")})
    replay = await _replay(kind, account_id, client_ref, settings, officer_id)
    if replay is not None:
        return replay
    await _count_for_phone(kind, account_id, settings)
    moment = now or clock.now()

    async def attempt():
        return await _submit_once(kind, account_id, chosen, new_persons, client_ref, settings,
                                  channel, moment, write, check,
                                  one_transaction or bool(new_persons))

    # A unique violation means a concurrent writer won (same client_ref, a new person's ID,
    # a QR reference): the transaction rolled back and the next attempt sees the winner.
    result = await db.retry_on_unique(attempt)
    if result is None:
        replay = await _replay(kind, account_id, client_ref, settings, officer_id)
        assert replay is not None
        return replay
    row_ids, declared = result
    views = await person_views(account_id, declared, settings)
    return kind.make(client_ref, moment, row_ids, [views[p] for p in declared], False)


async def _count_for_phone(kind: Kind, account_id: int | None, settings) -> None:
    """Count one submission of the phone; FormErrors ``client_ref`` beyond the hourly cap."""
    if account_id is None:
        return
    hit = await rate_limits.hit(f"declare:{account_id}", settings.declarations_per_hour,
                                DECLARATIONS_WINDOW_SECONDS)
    if not hit.allowed:
        minutes = max(1, -(-hit.retry_after // 60))
        raise FormErrors({"client_ref": InputError(f"{kind.name}.rate_limited", _TOO_MANY,
                                                   minutes=minutes)})


async def _submit_once(kind: Kind, account_id: int | None, person_ids: list[int],
                       new_persons: Sequence[PersonData], client_ref: str, settings,
                       channel: str, now: datetime, write: Write, check: Check | None,
                       in_transaction: bool) -> tuple[list[int], list[int]] | None:
    """One attempt; None when the submission already exists. In a transaction, the phone's
    submissions run one after the other (who is the owner); outside one (existing persons
    only, one INSERT) a concurrent duplicate meets the unique ``client_ref``."""
    async with db.write_transaction() if in_transaction else contextlib.nullcontext():
        if in_transaction:
            await lock_account(account_id)
        if await db.fetch(f"SELECT 1 FROM {kind.table._meta.tablename} "  # noqa: S608
                          "WHERE client_ref = {}", f"{client_ref}:0"):
            return None
        owned = await named_persons(account_id, person_ids)
        if any(pid not in owned for pid in person_ids):
            raise FormErrors({"persons": error(kind, "person_unknown")})
        errors: dict[str, InputError] = {}
        checked = await check(errors) if check is not None else None
        if errors:
            raise FormErrors(errors)
        # Without an account nobody is "the phone's owner".
        has_owner = account_id is None or any(r["is_owner"] for r in owned.values())
        declared = list(person_ids)
        for i, data in enumerate(new_persons):
            is_owner = not has_owner and i == 0
            try:
                person_id = await people.create_person(
                    account_id, data, settings, is_owner=is_owner,
                    channel=channel_for(channel, is_owner), now=now)
            except FormErrors as exc:
                errors.update({f"new{i}.{field}": e for field, e in exc.errors.items()})
                continue
            if person_id not in declared:
                declared.append(person_id)
        if errors:
            raise FormErrors(errors)
        persons = dict(owned)
        if new := [p for p in declared if p not in persons]:
            persons.update(await named_persons(None, new))
        return await write(declared, persons, checked, now), declared
