"""Persons of a phone account: the owner and the relatives declared from that phone.

ID numbers are never stored in clear: ``id_hash`` (keyed hash) finds them, ``id_masked``
shows them, ``id_encrypted`` recovers them for health officials; the same for BHYT numbers.
Any number of phones may declare the same ID number (the holder's own, their children's):
each phone has its own row, its own QR and sees only what it declared, and no answer tells
it whether another phone declared the ID. The rows sharing an ``id_hash`` are one person for
officers (``find_by_id_number``, ``checks.check_facts``) and for their verdict.
Children without any ID are recognised on the same phone by a keyed hash of
name + birth year + account (``no_id_key``), so declaring them again reuses the person.
Callers (routes) write the audit log; this module never sees a request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.citizens.person_input import (
    PersonData,
    error,
)
from khaibao.core import clock, crypto, db
from khaibao.core.crypto import keyed_hash
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.kept import MISSING, Kept
from khaibao.core.text import fold_diacritics
from khaibao.qr.tokens import (
    TokenError,
    TokenKind,
    issue_person_token,
    make_token,
    person_reference,
    printed_code,
)
from khaibao.tables import Account, Person, Region
from khaibao.vn.identity import IdType, Sex, mask_id


class PersonNotFound(LookupError):
    """No such person, or it belongs to another account (callers cannot tell which)."""


@dataclass
class PersonView:
    id: int
    account_id: int | None  # None: entered by an officer or at a kiosk, no phone account
    is_owner: bool
    full_name: str
    id_type: IdType
    id_masked: str  # "" when the person has no ID
    birth_year: int
    sex: Sex
    nationality: str
    region_code: str | None
    region_label: str
    address_detail: str
    bhyt_masked: str
    token: str
    channel: str
    last_declared_at: datetime | None
    qr_issued_at: datetime | None = None

    @property
    def given_name(self) -> str:
        """What to call the person at a door: the given name, last in a Vietnamese name
        ("Nguyễn Văn An" → "An"), first in a foreign one written given-name first."""
        words = self.full_name.split()
        if not words:
            return ""
        return words[-1] if self.nationality == "VN" else words[0]

    @property
    def printed_code(self) -> str:
        """The token as printed under the QR, for typing when a camera cannot read it."""
        return printed_code(self.token)


# --- storage -------------------------------------------------------------------------------

def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _compact(number: str) -> str:
    return "".join(unicodedata.normalize("NFKC", number or "").split()).upper()


def _stored(data: PersonData, account_id: int | None, key: bytes) -> dict[str, Any]:
    """The person's columns from validated data: hashes, masks and ciphertexts only."""
    has_id = data.id_type is not IdType.NONE and bool(data.id_number)
    bhyt = (data.bhyt.full or data.bhyt.social_insurance_number) if data.bhyt else None
    no_id = f"{fold_diacritics(data.full_name)}|{data.birth_year}|{account_id}"
    return {
        "full_name": data.full_name, "id_type": data.id_type.value if has_id else "none",
        "id_hash": keyed_hash(data.id_number, key, "id") if has_id else None,
        "id_masked": mask_id(data.id_number) if has_id else "",
        "id_encrypted": crypto.encrypt(data.id_number, key, "id") if has_id else None,
        "no_id_key": None if has_id else keyed_hash(no_id, key, "no_id"),
        "birth_year": data.birth_year, "sex": data.sex.value, "nationality": data.nationality,
        "address_detail": data.address_detail,
        "bhyt_masked": mask_id(bhyt) if bhyt else "",
        "bhyt_encrypted": crypto.encrypt(bhyt, key, "bhyt") if bhyt else None,
    }


async def _region_id(code: str | None) -> int | None:
    if code is None:
        return None
    row = await Region.select(Region.id).where(Region.code == code).first()
    if row is None:
        raise FormErrors({"region": error("region.unknown")})
    return row["id"]


async def _same_id_here(account_id: int | None, id_hash: str | None) -> int | None:
    """This account's person with this ID (without an account: the one entered by an officer
    or a kiosk), if any. Other phones' persons with the ID are never looked at here."""
    if id_hash is None:
        return None
    here = Person.account.is_null() if account_id is None else Person.account == account_id
    row = await Person.select(Person.id).where(here & (Person.id_hash == id_hash)).first()
    return row["id"] if row is not None else None


async def _conflicts(account_id: int | None, values: dict[str, Any], person_id: int | None = None
                     ) -> dict[str, InputError]:
    found = await _same_id_here(account_id, values["id_hash"])
    if found is None or found == person_id:
        return {}
    return {"id_number": error("person.already_listed")}


async def _checked_region(data: PersonData, errors: dict[str, InputError]) -> int | None:
    """The region id for saving, or FormErrors with every problem found so far."""
    region_id = None
    try:
        region_id = await _region_id(data.region_code)
    except FormErrors as exc:
        errors.update(exc.errors)
    if errors:
        raise FormErrors(errors)
    return region_id


async def create_person(account_id: int | None, data: PersonData, settings, *, is_owner: bool,
                        channel: str, now: datetime | None = None) -> int:
    """Add a person to an account (inside the caller's write transaction); return its id.

    ``account_id=None``: a person entered by an officer or at a kiosk, with no phone account.
    A child without ID already on this account is reused (never across persons without an
    account: two children of the same name and year there are not known to be one), and so
    is, without an account, the person an officer or a kiosk entered with the same ID.
    Another phone having declared the ID changes nothing. Raises :class:`FormErrors`
    (``id_number``: already listed on this phone; ``region``: unknown)."""
    values = _stored(data, account_id, settings.secret_key)
    if account_id is None and (entered := await _same_id_here(None, values["id_hash"])):
        return entered
    if values["no_id_key"] is not None and account_id is not None:
        same_child = await Person.select(Person.id).where(
            (Person.account == account_id) & (Person.no_id_key == values["no_id_key"])).first()
        if same_child is not None:
            return same_child["id"]
    region_id = await _checked_region(data, await _conflicts(account_id, values))
    now = _now(now)
    _token, reference = issue_person_token(settings.secret_key)
    rows = await Person.insert(Person(
        account=account_id, is_owner=is_owner, region=region_id, qr_reference=reference,
        qr_issued_at=now, channel=channel, created_at=now, updated_at=now, **values,
    )).returning(Person.id).run()
    return rows[0]["id"]


async def account_for_phone(phone_e164: str, *, now: datetime | None = None) -> int:
    """The account of a just-verified phone, created on first use (race-safe)."""
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", phone_e164 or ""):
        raise ValueError("phone must be in E.164 form")
    now = _now(now)
    await Account.insert(Account(phone=phone_e164, created_at=now, last_verified_at=now)
                         ).on_conflict(target=Account.phone, action="DO NOTHING").run()
    rows = await Account.update({Account.last_verified_at: now}).where(
        Account.phone == phone_e164).returning(Account.id).run()
    return rows[0]["id"]


# --- reading ---------------------------------------------------------------------------------


async def _region_labels(paths: set[str]) -> dict[str, str]:
    """"Phường Thuận An, Thành phố Huế" for each region path, from one query."""
    prefixes: set[str] = set()
    for path in paths:
        parts = path.strip("/").split("/")
        prefixes.update("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
    if not prefixes:
        return {}
    rows = await Region.select(Region.path, Region.name, Region.kind).where(
        Region.path.is_in(sorted(prefixes)))
    names = {r["path"]: r["name"] for r in rows if r["kind"] != "country"}
    labels = {}
    for path in paths:
        parts = path.strip("/").split("/")
        chain = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        labels[path] = ", ".join(names[p] for p in reversed(chain) if p in names)
    return labels


# Display text of administrative units: they change by decree, not by the minute. The wards
# of a whole country fit many times over.
_kept_labels = Kept(seconds=300.0, max_items=50_000)


async def region_labels(paths: set[str]) -> dict[str, str]:
    """:func:`_region_labels`, kept in process for five minutes (a rename or merge in this
    process forgets them at once: :func:`forget_region_labels`)."""
    found = {path: label for path in paths if (label := _kept_labels.get(path)) is not MISSING}
    missing = paths - found.keys()
    if missing:
        fresh = await _region_labels(missing)
        for path in missing:
            found[path] = fresh.get(path, "")
            _kept_labels.put(path, found[path])
    return found


def forget_region_labels() -> None:
    _kept_labels.forget()


# The person views' one read: person, region and the time of the last declaration.
_VIEWS = """
SELECT p.id, p.account, p.is_owner, p.full_name, p.id_type, p.id_masked, p.birth_year,
       p.sex, p.nationality, p.address_detail, p.bhyt_masked, p.qr_reference, p.channel,
       p.qr_issued_at, r.code AS region_code, r.path AS region_path,
       (SELECT MAX(h.submitted_at) FROM health_declaration h WHERE h.person = p.id)
           AS last_declared_at
FROM person p LEFT JOIN region r ON r.id = p.region
WHERE {where}
ORDER BY p.is_owner DESC, p.created_at, p.id"""


def person_view(row: Mapping[str, Any], *, region_label: str, secret_key: bytes) -> PersonView:
    """The view of a person row (its columns, ``region_code``, ``last_declared_at``): the
    one constructor every reader uses."""
    return PersonView(
        id=row["id"], account_id=row["account"], is_owner=bool(row["is_owner"]),
        full_name=row["full_name"], id_type=IdType(row["id_type"]), id_masked=row["id_masked"],
        birth_year=row["birth_year"], sex=Sex(row["sex"]), nationality=row["nationality"],
        region_code=row["region_code"], region_label=region_label,
        address_detail=row["address_detail"], bhyt_masked=row["bhyt_masked"],
        token=make_token(TokenKind.PERSON, row["qr_reference"], secret_key),
        channel=row["channel"], last_declared_at=db.aware(row["last_declared_at"]),
        qr_issued_at=db.aware(row["qr_issued_at"]),
    )


async def _views(where: str, *args: Any, settings) -> list[PersonView]:
    """The persons matching ``where`` (SQL on ``p``, ``{}`` placeholders for ``args``)."""
    rows = await db.fetch(_VIEWS.replace("{where}", where), *args)
    if not rows:
        return []
    labels = await region_labels({r["region_path"] for r in rows if r["region_path"]})
    return [person_view(r, region_label=labels.get(r["region_path"] or "", ""),
                        secret_key=settings.secret_key) for r in rows]


async def persons_of(account_id: int | None, settings) -> list[PersonView]:
    """The account's persons: the owner first, then in the order they were added (none
    without an account)."""
    if account_id is None:
        return []
    return await _views("p.account = {}", account_id, settings=settings)


async def get_person(account_id: int, person_id: int, settings) -> PersonView:
    """One person of this account; :class:`PersonNotFound` for anyone else's (also for a
    person without an account: ``account_id`` None reaches nobody)."""
    if account_id is None:
        raise PersonNotFound(person_id)
    views = await _views("p.id = {} AND p.account = {}", person_id, account_id,
                         settings=settings)
    if not views:
        raise PersonNotFound(person_id)
    return views[0]


async def persons_by_ids(person_ids: list[int], settings) -> list[PersonView]:
    """Persons by id whoever they belong to — for officers and kiosks only, never for a
    citizen's request (those go through :func:`persons_of` / :func:`get_person`)."""
    ids = list(dict.fromkeys(int(p) for p in person_ids))
    if not ids:
        return []
    views = {v.id: v for v in await _views(f"p.id IN ({db.marks(len(ids))})", *ids,
                                           settings=settings)}
    return [views[i] for i in ids if i in views]


async def find_by_token(token: str, settings) -> PersonView | None:
    """The person of a scanned person QR token; None for a bad, forged or revoked token."""
    reference = person_reference(token, settings.secret_key)
    if reference is None:
        return None
    views = await _views("p.qr_reference = {}", reference, settings=settings)
    return views[0] if views else None


async def find_by_live_token(token: str, settings, *, now: datetime | None = None
                             ) -> PersonView | None:
    """The person of a scanned live QR (mã QR động); None for a forged token or an unknown or
    revoked device key. A genuine but stale token raises ``TokenError`` ``token.expired``."""
    from khaibao.qr import devices  # devices imports tables only; imported late to stay light

    try:
        person_id = await devices.person_for_live_token(token, settings, now=now)
    except TokenError as error:
        if error.code == "token.expired":
            raise
        return None
    if person_id is None:
        return None
    views = await _views("p.id = {}", person_id, settings=settings)
    return views[0] if views else None


async def find_by_id_number(number: str, settings) -> PersonView | None:
    """The person with this ID number (CCCD, CMND or passport), by its keyed hash: of the
    phones (and officers) that declared it, the one that declared last."""
    compact = _compact(number)
    if not compact or set(compact) == {"0"}:
        return None
    views = await _views("p.id_hash = {}", keyed_hash(compact, settings.secret_key, "id"),
                         settings=settings)
    return max(views, key=lambda v: (v.last_declared_at.timestamp() if v.last_declared_at
                                     else 0.0, v.id), default=None)


async def person_ids_of_id_number(number: str, settings) -> list[int]:
    """Every person row declared with this ID number (one per phone that declared it, and
    an officer's or kiosk's entry), by its keyed hash; none for an empty number."""
    compact = _compact(number)
    if not compact or set(compact) == {"0"}:
        return []
    rows = await Person.select(Person.id).where(
        Person.id_hash == keyed_hash(compact, settings.secret_key, "id")).order_by(Person.id)
    return [row["id"] for row in rows]


async def same_id_person_ids(person_id: int) -> list[int]:
    """The ids of every row of this person's ID number (one per phone that declared it, and
    an officer's or kiosk's entry), this one included; just this one without an ID."""
    rows = await db.fetch(
        "SELECT q.id FROM person p JOIN person q ON q.id = p.id OR q.id_hash = p.id_hash "
        "WHERE p.id = {} ORDER BY q.id", person_id)
    return [r["id"] for r in rows] or [person_id]


# --- changing --------------------------------------------------------------------------------


async def update_person(account_id: int, person_id: int, data: PersonData, settings, *,
                        now: datetime | None = None) -> PersonView:
    """Replace a person's data (same conflict rules as adding one)."""
    values = _stored(data, account_id, settings.secret_key)

    if account_id is None:
        raise PersonNotFound(person_id)

    async def attempt() -> None:
        async with db.write_transaction():
            owned = await db.for_update(Person.select(Person.id).where(
                (Person.id == person_id) & (Person.account == account_id))).first()
            if owned is None:
                raise PersonNotFound(person_id)
            errors = await _conflicts(account_id, values, person_id)
            if values["no_id_key"] is not None and await Person.exists().where(
                    (Person.account == account_id) & (Person.id != person_id)
                    & (Person.no_id_key == values["no_id_key"])):
                errors["full_name"] = error("person.already_listed")
            region_id = await _checked_region(data, errors)
            await Person.update(**values, region=region_id, updated_at=_now(now)).where(
                Person.id == person_id)

    await db.retry_on_unique(attempt)
    return await get_person(account_id, person_id, settings)


async def reissue_qr(account_id: int, person_id: int, settings, *,
                     now: datetime | None = None) -> PersonView:
    """Give the person a new QR reference: the old token stops finding anybody."""
    if account_id is None:
        raise PersonNotFound(person_id)

    async def attempt() -> None:
        _token, reference = issue_person_token(settings.secret_key)
        rows = await Person.update({Person.qr_reference: reference,
                                    Person.qr_issued_at: _now(now)}).where(
            (Person.id == person_id) & (Person.account == account_id)).returning(Person.id)
        if not rows:
            raise PersonNotFound(person_id)

    await db.retry_on_unique(attempt)
    return await get_person(account_id, person_id, settings)
