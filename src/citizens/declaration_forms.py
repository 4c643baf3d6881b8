"""The declaration form as a browser sends it — a citizen's, an officer's or a kiosk's — read
into typed values, checked and submitted: the one home of the sequence parse → check →
submit → errors next to their fields, for health and arrival declarations alike.

A form is a mapping of strings (an HTML form's multi-dict, or a plain dict): the ticked
existing persons ``persons``, new person fieldsets ``p{i}_{field}`` (``p0_full_name``,
``p1_region_ward``, …), the idempotency reference ``client_ref`` and the fields of what is
declared. Those are read by the form's :class:`FormKind`: :data:`HEALTH_FORM` here, the
trip's in ``arrivals.trip_form``. Errors are ``InputError`` values by field name, each
person's on its :class:`PersonBlock`; what was typed is kept to be shown again.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from khaibao.citizens import declarations, person_input
from khaibao.citizens.person_input import PersonData
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.forms import all_values
from khaibao.regions import region_picker
from khaibao.regions.region_picker import Picker

MAX_NEW_PERSONS = 10
PERSON_FIELD = re.compile(r"^p(\d{1,2})_([a-z_]+)$")  # p0_full_name, p1_region_ward, …
# A submission's error about its i-th new person: "new{i}.{field}".
_NEW_PERSON_ERROR = re.compile(r"^new(\d+)\.(\w+)$")

Fields = TypeVar("Fields")  # a kind's fields as typed (HealthFields, TripFields)
Answers = TypeVar("Answers")  # those fields parsed (HealthData, TripData)


@dataclass(frozen=True)
class PersonFields:
    """One new person's fields as typed (stripped), the keys of ``person_input.parse_person``."""

    full_name: str = ""
    id_type: str = ""
    id_number: str = ""
    birth_year: str = ""
    sex: str = ""
    nationality: str = ""
    region: str = ""
    address_detail: str = ""
    bhyt: str = ""

    @classmethod
    def of(cls, fields: Mapping[str, Any], index: int) -> PersonFields:
        """The fieldset ``p{index}_…`` of a form."""
        return cls(**{name.name: str(fields.get(f"p{index}_{name.name}", "")).strip()
                      for name in dataclasses.fields(cls)})

    @property
    def is_blank(self) -> bool:
        """Nothing that names a person was typed: the fieldset is left out."""
        return not (self.full_name or self.id_number or self.birth_year or self.bhyt)

    def as_input(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass
class PersonBlock:
    """One new person's fieldset: what was typed, the region picker, the person when the
    fields parse, else their errors by field; ``notice`` is a line shown above it (already
    in the page's language: "filled from the BHYT card, check it")."""

    index: int
    values: PersonFields
    picker: Picker | None = None
    person: PersonData | None = None
    errors: dict[str, InputError] = field(default_factory=dict)
    notice: str = ""


async def person_block(index: int, values: PersonFields | None = None, *,
                       fields: Mapping[str, Any] | None = None, notice: str = "") -> PersonBlock:
    """Fieldset ``index`` with ``values`` (blank by default); its region is the picker's
    choice, read from the submitted ``fields`` when given (per-level selects or ``region``)."""
    values = values or PersonFields()
    if fields is not None:
        picker = await region_picker.picker_from_form(fields, f"p{index}_region")
    else:
        picker = await region_picker.picker(pick=values.region or None)
    region = picker.selected.code if picker and picker.selected else ""
    return PersonBlock(index, dataclasses.replace(values, region=region), picker, notice=notice)


async def read_persons(fields: Mapping[str, Any]) -> tuple[list[int], list[PersonBlock]]:
    """The ticked persons and the new person fieldsets, each parsed or with its errors.
    Blank fieldsets are dropped, except one when nobody is ticked (its errors then say what
    is missing)."""
    selected = [int(v) for v in all_values(fields, "persons") if v.isdigit()]
    indices = sorted({int(m.group(1)) for key in fields for m in [PERSON_FIELD.match(key)] if m})
    blocks = [await person_block(i, PersonFields.of(fields, i), fields=fields)
              for i in indices[:MAX_NEW_PERSONS]]
    blocks = [b for b in blocks if not b.values.is_blank] or (blocks[:1] if not selected else [])
    for block in blocks:
        try:
            block.person = person_input.parse_person(block.values.as_input())
        except FormErrors as caught:
            block.errors.update(caught.errors)
    return selected, blocks


@dataclass(frozen=True)
class FormKind(Generic[Fields, Answers]):
    """What one kind of declaration adds to the persons: ``read`` its fields from the form
    (kept as typed), ``parse`` them (raises :class:`FormErrors`), ``submit`` them:
    ``submit(account_id, answers, *, person_ids, new_persons, client_ref, settings, channel,
    officer_id)``, raising :class:`FormErrors` (``new{i}.{field}`` for a new person's)."""

    read: Callable[[Mapping[str, Any]], Awaitable[Fields]]
    parse: Callable[[Fields], Answers]
    submit: Callable[..., Awaitable[Any]]


@dataclass
class DeclarationForm(Generic[Fields, Answers]):
    """A declaration form read and checked: the persons, the kind's fields as typed and
    (when they parse) its answers, and the errors of the form's own fields (the kind's,
    ``persons``, ``client_ref``)."""

    person_ids: list[int]
    blocks: list[PersonBlock]
    client_ref: str
    fields: Fields
    answers: Answers | None
    errors: dict[str, InputError] = field(default_factory=dict)

    @property
    def new_persons(self) -> list[PersonData]:
        return [block.person for block in self.blocks if block.person is not None]

    @property
    def is_valid(self) -> bool:
        return (self.answers is not None and not self.errors
                and not any(block.errors for block in self.blocks))

    def assign_errors(self, errors: Mapping[str, InputError]) -> None:
        """A submission's errors: ``new{i}.{field}`` on the i-th new person's fieldset, the
        others on the form."""
        for key, error in errors.items():
            match = _NEW_PERSON_ERROR.match(key)
            if match and int(match.group(1)) < len(self.blocks):
                self.blocks[int(match.group(1))].errors[match.group(2)] = error
            else:
                self.errors[key] = error


async def read_form(fields: Mapping[str, Any], kind: FormKind[Fields, Answers], *,
                    may_choose: bool = True) -> DeclarationForm[Fields, Answers]:
    """Read and check the whole form (nothing is saved). ``may_choose=False``: ticked
    existing persons are ignored and one new person fieldset is always there (a kiosk
    without a phone only adds new persons)."""
    person_ids, blocks = await read_persons(fields)
    if not may_choose:
        person_ids = []
        if not blocks:
            blocks = [await person_block(0)]
    entered = await kind.read(fields)
    errors: dict[str, InputError] = {}
    answers: Answers | None = None
    try:
        answers = kind.parse(entered)
    except FormErrors as caught:
        errors.update(caught.errors)
    return DeclarationForm(person_ids, blocks, str(fields.get("client_ref", "")), entered,
                           answers, errors)


async def declare(fields: Mapping[str, Any], kind: FormKind[Fields, Answers],
                  account_id: int | None, *, settings, channel: str = "self",
                  officer_id: int | None = None, may_choose: bool = True, hold: bool = False
                  ) -> tuple[DeclarationForm[Fields, Answers], Any]:
    """Read the form and, when all of it is valid, submit it: (the form, the submission), the
    submission None when nothing was saved — the errors are then on the form. ``hold``: the
    caller found errors of its own; check the form, save nothing."""
    form = await read_form(fields, kind, may_choose=may_choose)
    if hold or not form.is_valid:
        return form, None
    try:
        submission = await kind.submit(
            account_id, form.answers, person_ids=form.person_ids,
            new_persons=form.new_persons, client_ref=form.client_ref, settings=settings,
            channel=channel, officer_id=officer_id)
    except FormErrors as caught:
        form.assign_errors(caught.errors)
        return form, None
    return form, submission


# --- the health declaration's fields ----------------------------------------------------------

@dataclass(frozen=True)
class HealthFields:
    """The health part of the form as typed."""

    places_visited: str = ""
    symptoms: tuple[str, ...] = ()
    exposures: tuple[str, ...] = ()
    pledge: str = ""

    def as_input(self) -> dict[str, str | list[str]]:
        return {"places_visited": self.places_visited, "symptoms": list(self.symptoms),
                "exposures": list(self.exposures), "pledge": self.pledge}


async def read_health(fields: Mapping[str, Any]) -> HealthFields:
    return HealthFields(str(fields.get("places_visited", "")),
                        tuple(all_values(fields, "symptoms")),
                        tuple(all_values(fields, "exposures")), str(fields.get("pledge", "")))


async def _submit_health(account_id: int | None, answers: declarations.HealthData,
                         **common: Any) -> declarations.Submission:
    return await declarations.submit(account_id, health=answers, **common)


HEALTH_FORM: FormKind[HealthFields, declarations.HealthData] = FormKind(
    read_health, lambda entered: declarations.parse_health(entered.as_input()), _submit_health)
