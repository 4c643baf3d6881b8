"""What the officer's scan needs about a person, in one indexed read.

The person, their region, their last health declaration, the id of their last arrival and
their last check-in (with the venue's name) come back as one row: on SQLite that is one read
on the synchronous fast connection (db.fetch), on PostgreSQL one round trip. The last
arrival's full view (its places and labels) is only read when there is one. Views are
built by the same constructors as everywhere else (people.person_view,
declarations.declaration_view, checkins.checkin_view).

Several phones may declare one ID number (people.py): the rows sharing the person's
``id_hash`` are one person here. Their latest declarations (one per row, newest first) and
how many phones made them come from a second read, only when there is more than one row;
``declaration`` is then the newest of them all.

Region labels ("Phường Thuận An, Thành phố Huế") come from people.region_labels (kept in
process for a few minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from khaibao.citizens import declarations, people
from khaibao.citizens.declarations import DeclarationView
from khaibao.citizens.people import PersonView
from khaibao.core import db
from khaibao.venues import checkins
from khaibao.venues.checkins import CheckInView

_FACTS = """
SELECT p.id, p.account, p.is_owner, p.full_name, p.id_type, p.id_masked, p.birth_year,
       p.sex, p.nationality, p.address_detail, p.bhyt_masked, p.qr_reference, p.channel,
       p.qr_issued_at, r.code AS region_code, r.path AS region_path, p.id_hash,
       (SELECT COUNT(*) FROM person q WHERE q.id_hash = p.id_hash) AS same_id_rows,
       d.id AS d_id, d.submitted_at AS d_submitted_at, d.has_symptoms AS d_has_symptoms,
       d.symptoms AS d_symptoms, d.exposures AS d_exposures, d.channel AS d_channel,
       d.places_visited AS d_places_visited,
       (SELECT a.id FROM arrival_declaration a WHERE a.person = p.id
        ORDER BY a.arrival_at DESC, a.id DESC LIMIT 1) AS arrival_id,
       c.id AS c_id, c.venue AS c_venue, c.checked_in_at AS c_checked_in_at,
       c.checked_out_at AS c_checked_out_at, c.ends_at AS c_ends_at, c.by_kind AS c_by_kind,
       v.name AS c_venue_name
FROM person p
LEFT JOIN region r ON r.id = p.region
LEFT JOIN health_declaration d ON d.id = (
    SELECT h.id FROM health_declaration h WHERE h.person = p.id
    ORDER BY h.submitted_at DESC, h.id DESC LIMIT 1)
LEFT JOIN check_in c ON c.id = (
    SELECT k.id FROM check_in k WHERE k.person = p.id
    ORDER BY k.checked_in_at DESC, k.id DESC LIMIT 1)
LEFT JOIN venue v ON v.id = c.venue
WHERE """
_BY_REFERENCE = _FACTS + "p.qr_reference = {}"
_BY_ID = _FACTS + "p.id = {}"
# Every row of one ID number (one per phone that declared it, and officers' entries), each
# with its latest health declaration.
_SAME_ID = """
SELECT p.id AS person, p.account, p.full_name,
       d.id, d.submitted_at, d.has_symptoms, d.symptoms, d.exposures, d.channel,
       d.places_visited
FROM person p
LEFT JOIN health_declaration d ON d.id = (
    SELECT h.id FROM health_declaration h WHERE h.person = p.id
    ORDER BY h.submitted_at DESC, h.id DESC LIMIT 1)
WHERE p.id_hash = {}"""


@dataclass(frozen=True)
class Declared:
    """One row's latest declaration of an ID number: the name it gave, and whether a phone
    (not an officer or kiosk without one) made it."""

    full_name: str
    from_phone: bool
    declaration: DeclarationView


@dataclass(frozen=True)
class Facts:
    person: PersonView
    declaration: DeclarationView | None  # the newest across every row of the ID
    arrival_id: int | None
    checkin: CheckInView | None
    same_id: tuple[int, ...] = ()  # the person ids of the ID (this one alone when no other)
    declared: tuple[Declared, ...] = ()  # each row's latest declaration, newest first
    phones: int = 0  # how many phones declared this ID


async def _region_label(path: str | None) -> str:
    return (await people.region_labels({path})).get(path, "") if path else ""


def _prefixed(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The columns of one joined table, named as in its own rows."""
    return {key[len(prefix):]: value for key, value in row.items() if key.startswith(prefix)}


async def _facts(row: dict[str, Any], settings) -> Facts:
    person = people.person_view({**row, "last_declared_at": row["d_submitted_at"]},
                                region_label=await _region_label(row["region_path"]),
                                secret_key=settings.secret_key)
    declaration = (declarations.declaration_view(_prefixed(row, "d_"))
                   if row["d_id"] is not None else None)
    checkin = (checkins.checkin_view({**_prefixed(row, "c_"), "person": row["id"],
                                      "person_name": row["full_name"]})
               if row["c_id"] is not None else None)
    if (row["same_id_rows"] or 0) <= 1:
        declared: tuple[Declared, ...] = (
            (Declared(person.full_name, person.account_id is not None, declaration),)
            if declaration is not None else ())
        return Facts(person, declaration, row["arrival_id"], checkin, (person.id,), declared,
                     1 if person.account_id is not None else 0)
    rows = await db.fetch(_SAME_ID, row["id_hash"])
    declared = tuple(sorted(
        (Declared(r["full_name"], r["account"] is not None, declarations.declaration_view(r))
         for r in rows if r["id"] is not None),
        key=lambda d: (d.declaration.submitted_at, d.declaration.id), reverse=True))
    return Facts(person, declared[0].declaration if declared else None, row["arrival_id"],
                 checkin, tuple(sorted(r["person"] for r in rows)), declared,
                 len({r["account"] for r in rows if r["account"] is not None}))


async def by_reference(reference: str, settings) -> Facts | None:
    """The facts of the person with this QR reference (a scanned token the caller has
    verified: ``scans.classify_scan``); None when no person has it any more (a newer QR
    was issued, or the person is gone)."""
    rows = await db.fetch(_BY_REFERENCE, reference)
    return await _facts(rows[0], settings) if rows else None


async def by_person_id(person_id: int, settings) -> Facts | None:
    rows = await db.fetch(_BY_ID, person_id)
    return await _facts(rows[0], settings) if rows else None
