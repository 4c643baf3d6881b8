"""Import of declarations gathered by another system (``khaibao import-declarations
FILE.jsonl``): one JSON object per line, in the schema the API emits (:func:`feeds.record`:
``type`` ``health_declaration`` or ``arrival``).

De-duplication: a declaration whose ``client_ref`` is already here (imported before, or
submitted here) is skipped, so the same file can be imported twice, and two provinces'
files that overlap merge cleanly. Persons are matched by the source's opaque ``person.ref``
(kept as a hash in ``person.no_id_key``): several declarations of one person become one
person here. The API never emits ID numbers, so imported persons have none (``id_type
"none"``, the masked number kept for display). Lines are read and written ``BATCH`` at a
time: a file of any size never sits in memory as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from khaibao.admin import daily_counts
from khaibao.arrivals import trips
from khaibao.citizens import declarations, submissions
from khaibao.core import audit, clock, db
from khaibao.core.clock import local_day
from khaibao.qr import tokens
from khaibao.tables import ArrivalDeclaration, ArrivalPlace, HealthDeclaration, Person, Region

BATCH = 500
KINDS = ("health_declaration", "arrival")
# The forms' own lists: an imported row carries only what a screen can show.
TRANSPORTS = tuple(code for code, _label in trips.TRANSPORTS)
SYMPTOMS = tuple(code for code, _label in declarations.SYMPTOMS)
EXPOSURES = tuple(code for code, _label in declarations.EXPOSURES)


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    persons_added: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


class LineError(ValueError):
    pass


def person_key(ref: str) -> str:
    return hashlib.sha256(f"import:{ref}".encode()).hexdigest()


def _moment(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise LineError(f"{name} is not an ISO-8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(record: dict, name: str, limit: int, *, required: bool = False) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            raise LineError(f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise LineError(f"{name} must be text")
    return value.strip()[:limit]


def _codes(record: dict, name: str, known: tuple[str, ...]) -> list[str]:
    values = record.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise LineError(f"{name} must be a list of codes")
    unknown = [v for v in values if v not in known]
    if unknown:
        raise LineError(f"{name}: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    return values


def parse(line: str) -> dict[str, Any]:
    """One line, checked: its kind, client_ref, channel, times, person, and every code
    against the forms' own lists."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise LineError("not valid JSON") from exc
    if not isinstance(record, dict) or record.get("type") not in KINDS:
        raise LineError("type must be health_declaration or arrival")
    _text(record, "client_ref", 80, required=True)
    person = record.get("person")
    if not isinstance(person, dict) or not person.get("ref") or not person.get("full_name"):
        raise LineError("person.ref and person.full_name are required")
    if not isinstance(person.get("birth_year"), int):
        raise LineError("person.birth_year must be a number")
    record["_submitted_at"] = _moment(record.get("submitted_at"), "submitted_at")
    channel = record.get("channel") or "paper"
    if channel not in submissions.CHANNELS:
        raise LineError(f"channel: unknown {channel} (known: {', '.join(submissions.CHANNELS)})")
    record["_channel"] = channel
    if record["type"] == "health_declaration":
        record["_symptoms"] = _codes(record, "symptoms", SYMPTOMS)
        record["_exposures"] = _codes(record, "exposures", EXPOSURES)
    if record["type"] == "arrival":
        record["_arrival_at"] = _moment(record.get("arrival_at"), "arrival_at")
        try:
            record["_departure"] = date.fromisoformat(str(record.get("departure_date")))
        except ValueError as exc:
            raise LineError("departure_date must be YYYY-MM-DD") from exc
        _text(record, "destination_region_code", 40, required=True)
        if record.get("transport") not in TRANSPORTS:
            raise LineError(f"transport: unknown {record.get('transport')} "
                            f"(known: {', '.join(TRANSPORTS)})")
    return record


async def _regions(codes: set[str]) -> dict[str, dict]:
    codes.discard("")
    if not codes:
        return {}
    rows = await Region.select(Region.id, Region.code, Region.path).where(
        Region.code.is_in(sorted(codes))).run()
    return {r["code"]: r for r in rows}


async def _persons(records: list[dict], regions: dict[str, dict], report: ImportReport
                   ) -> dict[str, int]:
    """Person ids by source ref, adding the persons not seen before."""
    keys = {person_key(r["person"]["ref"]): r for r in records}
    found = {row["no_id_key"]: row["id"] for row in await Person.select(
        Person.id, Person.no_id_key).where(Person.no_id_key.is_in(list(keys))).run()}
    now = clock.now()
    new = []
    for key, record in keys.items():
        if key in found:
            continue
        p = record["person"]
        code = record.get("region_code") or record.get("destination_region_code") or ""
        new.append(Person(
            account=None, is_owner=False, full_name=str(p["full_name"])[:100], id_type="none",
            id_hash=None, id_masked=str(p.get("id_masked") or "")[:20], id_encrypted=None,
            bhyt_encrypted=None, no_id_key=key, birth_year=p["birth_year"],
            sex=p.get("sex") if p.get("sex") in ("male", "female") else "male",
            nationality=str(p.get("nationality") or "VN")[:2],
            region=regions[code]["id"] if code in regions else None,
            qr_reference=tokens.new_reference(), qr_issued_at=now, channel="paper",
            created_at=now, updated_at=now))
    if new:
        await Person.insert(*new).run()
        report.persons_added += len(new)
        found.update({row["no_id_key"]: row["id"] for row in await Person.select(
            Person.id, Person.no_id_key).where(
            Person.no_id_key.is_in([p.no_id_key for p in new])).run()})
    return {r["person"]["ref"]: found[k] for k, r in keys.items()}


async def _existing(table: Any, refs: list[str]) -> set[str]:
    if not refs:
        return set()
    rows = await table.select(table.client_ref).where(table.client_ref.is_in(refs)).run()
    return {r["client_ref"] for r in rows}


async def _write(batch: list[tuple[int, dict]], report: ImportReport) -> None:
    records = [r for _n, r in batch]
    have = (await _existing(HealthDeclaration, [r["client_ref"] for r in records
                                                if r["type"] == "health_declaration"])
            | await _existing(ArrivalDeclaration, [r["client_ref"] for r in records
                                                   if r["type"] == "arrival"]))
    fresh = []
    for number, record in batch:
        if record["client_ref"] in have:
            report.duplicates += 1
            continue
        have.add(record["client_ref"])
        fresh.append((number, record))
    if not fresh:
        return
    codes = {r.get("region_code") or "" for _n, r in fresh} | {
        r.get("destination_region_code") or "" for _n, r in fresh} | {
        r.get("origin_region_code") or "" for _n, r in fresh}
    regions = await _regions(codes)
    async with db.transaction():
        persons = await _persons([r for _n, r in fresh], regions, report)
        health, arrivals, origins = [], [], []
        for number, r in fresh:
            person = persons[r["person"]["ref"]]
            channel = r["_channel"]
            if r["type"] == "health_declaration":
                region = regions.get(r.get("region_code") or "")
                symptoms, exposures = r["_symptoms"], r["_exposures"]
                health.append(HealthDeclaration(
                    person=person, account=None, client_ref=r["client_ref"],
                    submitted_at=r["_submitted_at"], channel=channel,
                    places_visited=_text(r, "places_visited", 2000),
                    symptoms=",".join(symptoms)[:200], exposures=",".join(exposures)[:200],
                    has_symptoms=bool(r.get("has_symptoms")) or bool(symptoms),
                    region=region["id"] if region else None, officer_id=None))
                continue
            destination = regions.get(r["destination_region_code"])
            if destination is None:
                report.errors.append((number, "destination_region_code is not a known region"))
                continue
            origin = regions.get(r.get("origin_region_code") or "")
            arrivals.append(ArrivalDeclaration(
                person=person, account=None, client_ref=r["client_ref"],
                submitted_at=r["_submitted_at"], channel=channel,
                origin_country=_text(r, "origin_country", 2) or "VN",
                origin_region=origin["id"] if origin else None,
                origin_detail=_text(r, "origin_detail", 200),
                departure_date=r["_departure"], arrival_at=r["_arrival_at"],
                transport=r["transport"], vehicle_number=_text(r, "vehicle_number", 20),
                checkpoint=None, destination_region=destination["id"],
                destination_path=destination["path"],
                destination_detail=_text(r, "destination_detail", 200),
                purpose=_text(r, "purpose", 200), officer_id=None))
            origins.append(origin)
        if health:
            await HealthDeclaration.insert(*health).run()
        if arrivals:
            await ArrivalDeclaration.insert(*arrivals).run()
            ids = {row["client_ref"]: row["id"] for row in await ArrivalDeclaration.select(
                ArrivalDeclaration.id, ArrivalDeclaration.client_ref).where(
                ArrivalDeclaration.client_ref.is_in([a.client_ref for a in arrivals])).run()}
            places = [ArrivalPlace(arrival=ids[a.client_ref], region=o["id"], path=o["path"],
                                   is_origin=True) for a, o in zip(arrivals, origins, strict=True)
                      if o is not None]
            if places:
                await ArrivalPlace.insert(*places).run()
        # old days got new rows: the dashboard counts them again (see daily_counts)
        await daily_counts.forget_days(
            [local_day(h.submitted_at) for h in health]
            + [local_day(a.arrival_at) for a in arrivals])
        report.added += len(health) + len(arrivals)


async def import_lines(lines: Iterable[str], *, source: str = "") -> ImportReport:
    report = ImportReport()
    batch: list[tuple[int, dict]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch.append((number, parse(line)))
        except LineError as exc:
            report.errors.append((number, str(exc)))
            continue
        if len(batch) >= BATCH:
            await _write(batch, report)
            batch = []
    if batch:
        await _write(batch, report)
    await audit.record("data.import", actor_kind="system", detail={
        "source": re.sub(r"\d{9,}", "…", source[-120:]), "added": report.added,
        "duplicates": report.duplicates, "errors": len(report.errors)})
    return report


async def import_file(path: Path) -> ImportReport:
    with path.open(encoding="utf-8-sig") as handle:
        return await import_lines(handle, source=path.name)
