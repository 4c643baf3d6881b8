"""What the officer's scan needs about a person, in one indexed read.

The person, their region, their last health declaration, the id of their last arrival and
their last check-in (with the venue's name) come back as one row: on SQLite that is one read
on the synchronous fast connection (db.fetch), on PostgreSQL one round trip. The last
arrival's full view (its places and labels) is only read when there is one. Views are
built by the same constructors as everywhere else (people.person_view,
declarations.declaration_view, checkins.checkin_view).

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
       p.qr_issued_at, r.code AS region_code, r.path AS region_path,
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


@dataclass(frozen=True)
class Facts:
    person: PersonView
    declaration: DeclarationView | None
    arrival_id: int | None
    checkin: CheckInView | None


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
    return Facts(person, declaration, row["arrival_id"], checkin)


async def by_reference(reference: str, settings) -> Facts | None:
    """The facts of the person with this QR reference (a scanned token the caller has
    verified: ``scans.classify_scan``); None when no person has it any more (a newer QR
    was issued, or the person is gone)."""
    rows = await db.fetch(_BY_REFERENCE, reference)
    return await _facts(rows[0], settings) if rows else None


async def by_person_id(person_id: int, settings) -> Facts | None:
    rows = await db.fetch(_BY_ID, person_id)
    return await _facts(rows[0], settings) if rows else None
