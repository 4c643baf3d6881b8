"""Persons inside a citizen form: the existing persons ticked, and new person fieldsets
(``p0_full_name``, ``p1_region_ward``, …) — shared by the health and arrival declarations."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from litestar.datastructures import FormMultiDict

from khaibao.citizens import people, person_input
from khaibao.citizens.person_input import PERSON_FIELDS, PersonData
from khaibao.core import i18n
from khaibao.core.crypto import keyed_hash
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.regions import region_picker
from khaibao.vn import countries

MAX_NEW_PERSONS = 10
PERSON_FIELD = re.compile(r"^p(\d{1,2})_([a-z_]+)$")  # p0_full_name, p1_region_ward, …
ID_TYPES = [("cccd", N_("Căn cước công dân (CCCD)")), ("cmnd", N_("Chứng minh nhân dân (CMND)")),
            ("passport", N_("Hộ chiếu")), ("none", N_("Chưa có giấy tờ (trẻ em)"))]
SEXES = [("male", N_("Nam")), ("female", N_("Nữ"))]


def message(error: InputError) -> str:
    return error.message(i18n.current_language.get())


def new_person_values(form: FormMultiDict, index: int) -> dict[str, str]:
    return {field: str(form.get(f"p{index}_{field}", "")).strip()
            for field in PERSON_FIELDS}


def fill_index(form: FormMultiDict) -> int:
    """Which person fieldset a fill button (BHYT, Quét CCCD) belongs to."""
    value = str(form.get("fill", "0"))
    return min(int(value), 99) if value.isdigit() else 0


def is_blank(values: dict[str, str]) -> bool:
    return not any(values[field] for field in ("full_name", "id_number", "birth_year", "bhyt"))


async def person_block(index: int, values: dict[str, str] | None = None, *,
                        form: FormMultiDict | None = None, notice: str = "") -> dict[str, Any]:
    """What one person fieldset shows: its values, errors, notice and region picker."""
    values = values or {"nationality": "VN", "id_type": "cccd", "region": ""}
    name = f"p{index}_region"
    if form is not None:
        picker = await region_picker.picker_from_form(form, name)
    else:
        picker = await region_picker.picker(pick=values.get("region") or None)
    values["region"] = picker.selected.code if picker and picker.selected else ""
    return {"index": index, "values": values, "errors": {}, "notice": notice,
            "picker": picker}


def person_choices() -> dict[str, Any]:
    """The options of a person fieldset, in the page's language."""
    return {
        "id_types": [(code, _(label)) for code, label in ID_TYPES],
        "sexes": [(code, _(label)) for code, label in SEXES],
        "nationalities": countries.choices(i18n.current_language.get()),
    }


async def read_persons(form: FormMultiDict) -> tuple[list[int], list[dict[str, Any]],
                                                     list[PersonData]]:
    """The ticked persons, the new person fieldsets (blank ones dropped) and those parsed;
    a fieldset that does not parse carries its errors for the page."""
    selected = [int(v) for v in form.getall("persons", []) if str(v).isdigit()]
    indices = sorted({int(m.group(1)) for key in form for m in [PERSON_FIELD.match(key)] if m})
    blocks = [await person_block(i, new_person_values(form, i), form=form)
              for i in indices[:MAX_NEW_PERSONS]]
    blocks = [b for b in blocks if not is_blank(b["values"])] or (
        blocks[:1] if not selected else [])
    parsed: list[PersonData] = []
    for block in blocks:
        try:
            parsed.append(person_input.parse_person(block["values"]))
        except FormErrors as caught:
            block["errors"] = {k: message(v) for k, v in caught.errors.items()}
    return selected, blocks, parsed


def assign_errors(blocks: list[dict[str, Any]],
                  errors: Mapping[str, InputError]) -> dict[str, str]:
    """Put a service's ``new{i}.{field}`` errors on their fieldsets; return the others."""
    rest: dict[str, str] = {}
    for key, error in errors.items():
        match = re.match(r"^new(\d+)\.(\w+)$", key)
        if match and int(match.group(1)) < len(blocks):
            blocks[int(match.group(1))]["errors"][match.group(2)] = message(error)
        else:
            rest[key] = message(error)
    return rest


async def persons_context(account_id: int, settings, *, selected: list[int] | None,
                          blocks: list[dict[str, Any]] | None,
                          client_ref: str) -> dict[str, Any]:
    """What the "persons" part of a citizen form shows: the phone's persons (the owner ticked
    on a first visit), new person fieldsets (one when the phone has nobody yet), the form's
    idempotency reference and the fieldset options."""
    persons = await people.persons_of(account_id, settings)
    if selected is None:
        selected = [p.id for p in persons if p.is_owner] or [p.id for p in persons[:1]]
    if blocks is None:
        blocks = [] if persons else [await person_block(0)]
    return {
        "persons": persons, "selected": selected, "blocks": blocks,
        "client_ref": client_ref or secrets.token_urlsafe(12),
        "next_index": max([b["index"] for b in blocks], default=-1) + 1,
        # form_draft.js: a draft kept when the session ended goes back only into a form of
        # the same phone (an opaque tag; the phone and account id stay on the server).
        "draft_owner": keyed_hash(str(account_id), settings.secret_key, "form-draft")[:16],
        **person_choices(),
    }
