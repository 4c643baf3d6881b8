"""What the officer's scan needs about a person, in one indexed read.

The person, their region, their last health declaration, the id of their last arrival and
their last check-in (with the venue's name) come back as one row: on SQLite that is one read
on the synchronous fast connection (db.fetch), on PostgreSQL one round trip. The last
arrival's full view (its places and labels) is only read when there is one. Views are the
same as people.py, declarations.py and checkins.py build, so templates see no difference.

Region labels ("Phường Thuận An, Thành phố Huế") come from people.region_labels (kept in
process for a few minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from khaibao.citizens import people
from khaibao.citizens.declarations import EXPOSURE_LABELS, SYMPTOM_LABELS, DeclarationView
from khaibao.citizens.people import PersonView
from khaibao.core import db
from khaibao.core.db import aware
from khaibao.qr.tokens import TokenKind, make_token
from khaibao.venues.checkins import CheckInView
from khaibao.vn.identity import IdType, Sex

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


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(c for c in (text or "").split(",") if c)


async def _facts(row: dict[str, Any], settings) -> Facts:
    declared = aware(row["d_submitted_at"])
    person = PersonView(
        id=row["id"], account_id=row["account"], is_owner=bool(row["is_owner"]),
        full_name=row["full_name"], id_type=IdType(row["id_type"]), id_masked=row["id_masked"],
        birth_year=row["birth_year"], sex=Sex(row["sex"]), nationality=row["nationality"],
        region_code=row["region_code"], region_label=await _region_label(row["region_path"]),
        address_detail=row["address_detail"], bhyt_masked=row["bhyt_masked"],
        token=make_token(TokenKind.PERSON, row["qr_reference"], settings.secret_key),
        channel=row["channel"], last_declared_at=declared,
        qr_issued_at=aware(row["qr_issued_at"]))
    declaration = None
    if row["d_id"] is not None:
        symptoms, exposures = _codes(row["d_symptoms"]), _codes(row["d_exposures"])
        declaration = DeclarationView(
            id=row["d_id"], submitted_at=declared,
            has_symptoms=bool(row["d_has_symptoms"]),
            symptoms=tuple(SYMPTOM_LABELS.get(c, c) for c in symptoms),
            exposures=tuple(EXPOSURE_LABELS.get(c, c) for c in exposures),
            symptom_codes=symptoms, exposure_codes=exposures, channel=row["d_channel"],
            places_visited=row["d_places_visited"])
    checkin = None
    if row["c_id"] is not None:
        checkin = CheckInView(
            id=row["c_id"], person_id=row["id"], person_name=row["full_name"],
            venue_id=row["c_venue"], venue_name=row["c_venue_name"],
            checked_in_at=aware(row["c_checked_in_at"]),
            checked_out_at=aware(row["c_checked_out_at"]),
            ends_at=aware(row["c_ends_at"]),
            by_kind=row["c_by_kind"])
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
