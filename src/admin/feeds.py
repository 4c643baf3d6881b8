"""Rows of declarations, arrivals and check-ins for exports and the interop API, read in
id order with keyset pagination (``id > last``), a region subtree and a time range.

One record shape per kind (a plain dict, the JSON the API emits and ``khaibao
import-declarations`` reads back); the CSV exports flatten the same dicts.

Why the row id is a safe cursor: ids only grow (SQLite's INTEGER PRIMARY KEY takes max+1 and
rows are never deleted except by the retention purge, which removes the *oldest*; PostgreSQL's
SERIAL sequence never goes back). A reader that asks for ``id > last`` therefore never sees a
row twice and never misses a row that was visible when it read past its id. What remains is a
row whose id was *allocated* before a newer one but *committed* after it: impossible on SQLite
(one writer at a time: ids are allocated and committed in order), possible on PostgreSQL
(sequence values are handed out at INSERT, transactions commit in any order). The API closes
that gap with :data:`SETTLE`: a page never goes past the first row newer than ``now - SETTLE``
(see :func:`page`), so a row still being written when the page was read (our write
transactions last milliseconds) is waiting below the cursor, not behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from khaibao.core import clock, db
from khaibao.core.crypto import keyed_hash
from khaibao.core.db import aware
from khaibao.policies import policies
from khaibao.tables import HealthDeclaration

BATCH = 1000
SETTLE = timedelta(seconds=5)
KINDS = ("health_declaration", "arrival", "check_in")


@dataclass(frozen=True)
class Window:
    """Which rows: a region subtree (``""`` = all), a time range on the kind's time column,
    and ``after_id`` for keyset paging."""

    path: str = ""
    since: datetime | None = None
    until: datetime | None = None


def iso_time(value: Any) -> str | None:
    """A stored moment (datetime or the engine's text) as ISO 8601 in UTC, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = policies.as_datetime(value) if "T" in value or " " in value else value
        if isinstance(value, str):
            return value
    if isinstance(value, datetime):
        return policies.as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def person_ref(person_id: int, secret_key: bytes) -> str:
    """An opaque, stable reference to a person of this deployment (never the database id)."""
    return keyed_hash(str(person_id), secret_key, "feed-person")[:24]


def _split(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


_QUERIES = {
    "health_declaration": (
        "SELECT hd.id AS id, hd.client_ref AS client_ref, hd.submitted_at AS t, "
        "hd.channel AS channel, hd.symptoms AS symptoms, hd.exposures AS exposures, "
        "hd.has_symptoms AS has_symptoms, hd.places_visited AS places_visited, "
        "r.code AS region_code, r.path AS region_path, p.id AS person_id, "
        "p.full_name AS full_name, p.id_masked AS id_masked, p.birth_year AS birth_year, "
        "p.sex AS sex, p.nationality AS nationality "
        "FROM health_declaration hd{pk} JOIN person p ON p.id = hd.person "
        "LEFT JOIN region r ON r.id = hd.region WHERE hd.id > {}",
        "hd.submitted_at", "r.path", "hd.id"),
    "arrival": (
        "SELECT a.id AS id, a.client_ref AS client_ref, a.submitted_at AS t, "
        "a.channel AS channel, a.arrival_at AS arrival_at, a.departure_date AS departure_date, "
        "a.origin_country AS origin_country, o.code AS origin_region_code, "
        "o.name AS origin_name, o.path AS origin_path, a.origin_detail AS origin_detail, "
        "a.transport AS transport, "
        "a.vehicle_number AS vehicle_number, d.code AS region_code, "
        "a.destination_path AS region_path, d.name AS destination_name, "
        "a.destination_detail AS destination_detail, a.purpose AS purpose, "
        "k.name AS checkpoint_name, p.id AS person_id, p.full_name AS full_name, "
        "p.id_masked AS id_masked, p.birth_year AS birth_year, p.sex AS sex, "
        "p.nationality AS nationality "
        "FROM arrival_declaration a{pk} JOIN person p ON p.id = a.person "
        "JOIN region d ON d.id = a.destination_region "
        "LEFT JOIN region o ON o.id = a.origin_region "
        "LEFT JOIN checkpoint k ON k.id = a.checkpoint WHERE a.id > {}",
        "a.submitted_at", "a.destination_path", "a.id"),
    "check_in": (
        "SELECT ci.id AS id, ci.checked_in_at AS t, ci.checked_out_at AS checked_out_at, "
        "ci.by_kind AS by_kind, v.name AS venue_name, v.address AS venue_address, "
        "v.region_path AS region_path, p.id AS person_id, p.full_name AS full_name, "
        "p.id_masked AS id_masked, p.birth_year AS birth_year, p.sex AS sex, "
        "p.nationality AS nationality "
        "FROM check_in ci{pk} JOIN venue v ON v.id = ci.venue JOIN person p ON p.id = ci.person "
        "WHERE ci.id > {}",
        "ci.checked_in_at", "v.region_path", "ci.id"),
}


async def rows(kind: str, window: Window, *, after_id: int = 0, limit: int = BATCH
               ) -> list[dict[str, Any]]:
    """At most ``limit`` raw rows of ``kind`` with id > ``after_id``, in id order."""
    sql, time_column, path_column, id_column = _QUERIES[kind]
    # Walk the primary key: with the time index SQLite would collect the whole time range
    # and sort it for every page (quadratic over an export); PostgreSQL picks the key itself.
    sql = sql.replace("{pk}", " NOT INDEXED" if db.is_sqlite() else "")
    args: list[Any] = [after_id]
    if window.path:
        sql += f" AND substr({path_column}, 1, {{}}) = {{}}"
        args += [len(window.path), window.path]
    if window.since is not None:
        sql += f" AND {time_column} >= {{}}"
        args.append(window.since)
    if window.until is not None:
        sql += f" AND {time_column} < {{}}"
        args.append(window.until)
    sql += f" ORDER BY {id_column} LIMIT {{}}"
    args.append(limit)
    return await HealthDeclaration.raw(sql, *args).run()


async def batches(kind: str, window: Window, *, size: int = BATCH
                  ) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of the window, ``size`` at a time (for streamed exports)."""
    last = 0
    while True:
        batch = await rows(kind, window, after_id=last, limit=size)
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        last = batch[-1]["id"]


def record(kind: str, row: dict[str, Any], secret_key: bytes) -> dict[str, Any]:
    """The JSON record of one row (the API's item and the import's line)."""
    person = {"ref": person_ref(row["person_id"], secret_key), "full_name": row["full_name"],
              "id_masked": row["id_masked"] or "", "birth_year": row["birth_year"],
              "sex": row["sex"], "nationality": row["nationality"]}
    if kind == "health_declaration":
        return {"type": kind, "id": row["id"], "client_ref": row["client_ref"],
                "submitted_at": iso_time(row["t"]), "channel": row["channel"],
                "region_code": row["region_code"], "has_symptoms": bool(row["has_symptoms"]),
                "symptoms": _split(row["symptoms"]), "exposures": _split(row["exposures"]),
                "places_visited": row["places_visited"] or "", "person": person}
    if kind == "arrival":
        return {"type": kind, "id": row["id"], "client_ref": row["client_ref"],
                "submitted_at": iso_time(row["t"]), "channel": row["channel"],
                "arrival_at": iso_time(row["arrival_at"]),
                "departure_date": iso_time(row["departure_date"]),
                "origin_country": row["origin_country"],
                "origin_region_code": row["origin_region_code"],
                "origin_detail": row["origin_detail"] or "", "transport": row["transport"],
                "vehicle_number": row["vehicle_number"] or "",
                "destination_region_code": row["region_code"],
                "destination_detail": row["destination_detail"] or "",
                "purpose": row["purpose"] or "", "checkpoint": row["checkpoint_name"] or "",
                "person": person}
    return {"type": kind, "id": row["id"], "checked_in_at": iso_time(row["t"]),
            "checked_out_at": iso_time(row["checked_out_at"]), "by_kind": row["by_kind"],
            "venue": row["venue_name"], "person": person}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: int  # give it back as ``cursor`` to continue; the same when nothing was new


async def page(kind: str, window: Window, secret_key: bytes, *, cursor: int = 0,
               limit: int = 100, now: datetime | None = None) -> Page:
    """One API page after ``cursor``. Rows written in the last :data:`SETTLE` seconds are
    held back (with every row after them) until they settle, so the cursor never passes a
    row id that a slower concurrent transaction could still commit below it."""
    now = now or clock.now()
    fresh = now - SETTLE
    found = await rows(kind, window, after_id=cursor, limit=limit)
    items = []
    for row in found:
        if aware(row["t"]) > fresh and kind != "check_in":
            break
        items.append(record(kind, row, secret_key))
    return Page(items, items[-1]["id"] if items else cursor)
