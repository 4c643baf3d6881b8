"""Health declarations (khai báo y tế): the Ministry of Health form, submitted from one phone
for one or more persons at once.

A submission is all-or-nothing (one write transaction: new persons and every declaration
land together or not at all) and idempotent: the browser sends a random ``client_ref`` and
declaration *n* is stored as ``{client_ref}:{n}``, so a double tap or an offline replay
returns the first submission instead of adding one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from khaibao.citizens import submissions
from khaibao.citizens.people import PersonView
from khaibao.citizens.person_input import PersonData
from khaibao.core import db
from khaibao.core.errors import FormErrors, InputError, error_maker
from khaibao.core.forms import all_values
from khaibao.core.i18n import N_
from khaibao.tables import HealthDeclaration

SYMPTOMS = (
    ("fever", N_("Sốt")),
    ("cough", N_("Ho")),
    ("breathless", N_("Khó thở")),
    ("sore_throat", N_("Đau họng")),
    ("taste_smell", N_("Mất vị giác hoặc khứu giác")),
    ("fatigue", N_("Mệt mỏi")),
)
EXPOSURES = (
    ("confirmed_case", N_("Tiếp xúc gần với người bệnh hoặc nghi nhiễm COVID-19")),
    ("from_area", N_("Tiếp xúc với người từ nơi có ca bệnh")),
    ("symptomatic", N_("Tiếp xúc với người có biểu hiện sốt, ho, khó thở")),
)
MAX_PLACES_LENGTH = 1000
SYMPTOM_LABELS = dict(SYMPTOMS)
EXPOSURE_LABELS = dict(EXPOSURES)
_TRUE = frozenset({"on", "1", "yes", "true"})
_ERRORS = {
    "declaration.places_too_long": N_("Phần nơi đã đi qua dài tối đa 1000 ký tự."),
    "declaration.symptom_unknown": N_("Có triệu chứng không hợp lệ. Hãy tải lại trang và chọn "
                                      "lại."),
    "declaration.exposure_unknown": N_("Có mục tiếp xúc không hợp lệ. Hãy tải lại trang và chọn "
                                       "lại."),
    "declaration.pledge_required": N_("Bạn cần cam kết thông tin khai báo là đúng sự thật."),
}


_error = error_maker(_ERRORS)


@dataclass(frozen=True)
class HealthData:
    places_visited: str
    symptoms: tuple[str, ...]
    exposures: tuple[str, ...]
    pledge: bool


@dataclass
class Submission:
    client_ref: str
    submitted_at: datetime
    declaration_ids: list[int]
    persons: list[PersonView]
    replayed: bool


@dataclass
class DeclarationView:
    """``symptoms`` and ``exposures`` are labels marked with ``N_``: translate when shown."""

    id: int
    submitted_at: datetime
    has_symptoms: bool
    symptoms: tuple[str, ...]
    exposures: tuple[str, ...]
    symptom_codes: tuple[str, ...]
    exposure_codes: tuple[str, ...]
    channel: str
    places_visited: str

    @property
    def needs_care(self) -> bool:
        """Symptoms or an exposure were declared: the citizen is told what to do next."""
        return self.has_symptoms or bool(self.exposure_codes)



def _codes(values: list[str], known: tuple[tuple[str, str], ...]) -> tuple[str, ...] | None:
    codes = [code for code, _label in known]
    if any(v not in codes for v in values):
        return None
    return tuple(code for code in codes if code in values)  # the form's order, no repeats


def parse_health(fields: Mapping[str, str | list[str]]) -> HealthData:
    """Validate the health part of the form; raise :class:`FormErrors` with every error."""
    errors: dict[str, InputError] = {}
    places = unicodedata.normalize("NFC", (all_values(fields, "places_visited") or [""])[-1])
    if len(places) > MAX_PLACES_LENGTH:
        errors["places_visited"] = _error("declaration.places_too_long")
    symptoms = _codes(all_values(fields, "symptoms"), SYMPTOMS)
    if symptoms is None:
        errors["symptoms"] = _error("declaration.symptom_unknown")
    exposures = _codes(all_values(fields, "exposures"), EXPOSURES)
    if exposures is None:
        errors["exposures"] = _error("declaration.exposure_unknown")
    pledge = (all_values(fields, "pledge") or [""])[-1].lower() in _TRUE
    if not pledge:
        errors["pledge"] = _error("declaration.pledge_required")
    if errors:
        raise FormErrors(errors)
    return HealthData(places, symptoms or (), exposures or (), pledge)


HEALTH = submissions.Kind("declaration", HealthDeclaration, Submission)


async def submission(account_id: int | None, client_ref: str, settings, *,
                     officer_id: int | None = None) -> Submission | None:
    """A past health declaration submission by its ``client_ref`` (see
    :func:`submissions.submission`)."""
    return await submissions.submission(HEALTH, account_id, client_ref, settings,
                                        officer_id=officer_id)


async def submit(account_id: int | None, *, person_ids: Sequence[int],
                 new_persons: Sequence[PersonData],
                 health: HealthData, client_ref: str, settings, channel: str = "self",
                 officer_id: int | None = None, now: datetime | None = None) -> Submission:
    """Declare the health of the chosen persons of the account and the new ones, all or
    nothing (:func:`submissions.submit`: its errors, replays and concurrency).

    ``account_id=None``: entered by an officer (``officer_id``; channel assisted or paper) or
    at a kiosk without a phone (channel kiosk): ``person_ids`` may be any existing persons,
    new persons get no account.
    """

    async def write(declared: list[int], persons: dict[int, dict[str, Any]], _checked: None,
                    now: datetime) -> list[int]:
        rows = [(person_id, account_id, f"{client_ref}:{n}", now,
                 submissions.channel_for(channel, bool(persons[person_id]["is_owner"])),
                 health.places_visited, ",".join(health.symptoms), ",".join(health.exposures),
                 bool(health.symptoms), persons[person_id]["region"], officer_id)
                for n, person_id in enumerate(declared)]
        values = ", ".join([f"({db.marks(11)})"] * len(rows))
        inserted = await db.execute(
            "INSERT INTO health_declaration (person, account, client_ref, "  # noqa: S608
            "submitted_at, channel, places_visited, symptoms, exposures, has_symptoms, region, "
            f"officer_id) VALUES {values} RETURNING id, client_ref",
            *(value for row in rows for value in row))
        by_ref = {r["client_ref"]: r["id"] for r in inserted}
        return [by_ref[f"{client_ref}:{n}"] for n in range(len(declared))]

    # Existing persons only: one INSERT, no transaction (the unique client_ref meets a
    # concurrent duplicate).
    return await submissions.submit(
        HEALTH, account_id, person_ids=person_ids, new_persons=new_persons,
        client_ref=client_ref, settings=settings, channel=channel, officer_id=officer_id,
        now=now, write=write, one_transaction=False)


async def last_declaration(person_id: int) -> DeclarationView | None:
    """The person's most recent health declaration, if any."""
    row = await HealthDeclaration.select().where(HealthDeclaration.person == person_id).order_by(
        HealthDeclaration.submitted_at, HealthDeclaration.id, ascending=False).first()
    return declaration_view(row) if row is not None else None


async def last_declarations(person_ids: Sequence[int]) -> dict[int, DeclarationView]:
    """:func:`last_declaration` of each person that has one, in one read (the latest
    per person is found by the person index, not by reading every declaration)."""
    if not person_ids:
        return {}
    ids = list(dict.fromkeys(person_ids))
    rows = await db.fetch(_LAST_DECLARATIONS.format(
        persons=", ".join("{}" for _id in ids)), *ids)
    return {row["person"]: declaration_view(row) for row in rows}


# The latest declaration of each person: none of theirs is later (submitted_at, then id).
_LAST_DECLARATIONS = """
SELECT h.* FROM health_declaration h
WHERE h.person IN ({persons}) AND NOT EXISTS (
  SELECT 1 FROM health_declaration n WHERE n.person = h.person
  AND (n.submitted_at > h.submitted_at OR (n.submitted_at = h.submitted_at AND n.id > h.id)))
"""


async def any_needs_care(declaration_ids: Sequence[int]) -> bool:
    """Whether any of these declarations (one submission's) declared symptoms or an
    exposure."""
    if not declaration_ids:
        return False
    rows = await HealthDeclaration.select().where(HealthDeclaration.id.is_in(
        list(declaration_ids)))
    return any(declaration_view(row).needs_care for row in rows)


def declaration_view(row: Mapping[str, Any]) -> DeclarationView:
    """The view of a health_declaration row: the one constructor every reader uses."""
    symptoms = tuple(c for c in (row["symptoms"] or "").split(",") if c)
    exposures = tuple(c for c in (row["exposures"] or "").split(",") if c)
    submitted_at = db.aware(row["submitted_at"])
    assert submitted_at is not None
    return DeclarationView(
        id=row["id"], submitted_at=submitted_at, has_symptoms=bool(row["has_symptoms"]),
        symptoms=tuple(SYMPTOM_LABELS.get(c, c) for c in symptoms),
        exposures=tuple(EXPOSURE_LABELS.get(c, c) for c in exposures),
        symptom_codes=symptoms, exposure_codes=exposures, channel=row["channel"],
        places_visited=row["places_visited"],
    )
