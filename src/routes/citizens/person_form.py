"""The persons part of a declaration page, as its templates show it: the phone's persons to
tick, the new person fieldsets (``citizens.declaration_forms.PersonBlock``) with their errors
in the page's language, and the fieldset options — shared by the health and arrival
declarations and the forms filled for someone else."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from khaibao.citizens import people
from khaibao.citizens.declaration_forms import DeclarationForm, PersonBlock, person_block
from khaibao.core import i18n
from khaibao.core.crypto import keyed_hash
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.vn import countries
from khaibao.vn.identity import SEX_LABELS

ID_TYPES = [("cccd", N_("Căn cước công dân (CCCD)")), ("cmnd", N_("Chứng minh nhân dân (CMND)")),
            ("passport", N_("Hộ chiếu")), ("none", N_("Chưa có giấy tờ (trẻ em)"))]
SEXES = [(sex.value, label) for sex, label in SEX_LABELS.items()]


def message(error: InputError) -> str:
    return error.message(i18n.current_language.get())


def messages(errors: Mapping[str, InputError]) -> dict[str, str]:
    """Field → message in the page's language."""
    return {key: message(error) for key, error in errors.items()}


def fill_index(form: Mapping[str, Any]) -> int:
    """Which person fieldset a fill button (BHYT, Quét CCCD) belongs to."""
    value = str(form.get("fill", "0"))
    return min(int(value), 99) if value.isdigit() else 0


def shown(block: PersonBlock) -> dict[str, Any]:
    """What one person fieldset (``_citizen.html``) shows."""
    return {"index": block.index, "values": block.values, "errors": messages(block.errors),
            "notice": block.notice, "picker": block.picker}


def form_context(form: DeclarationForm) -> dict[str, Any]:
    """The parts every declaration page shows again of a submitted form: the ticked persons,
    the new person fieldsets, the form's errors and its reference."""
    return {"selected": form.person_ids, "blocks": form.blocks,
            "errors": messages(form.errors), "client_ref": form.client_ref}


def person_choices() -> dict[str, Any]:
    """The options of a person fieldset, in the page's language."""
    return {
        "id_types": [(code, _(label)) for code, label in ID_TYPES],
        "sexes": [(code, _(label)) for code, label in SEXES],
        "nationalities": countries.choices(i18n.current_language.get()),
    }


async def persons_context(account_id: int, settings, *, selected: list[int] | None,
                          blocks: list[PersonBlock] | None,
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
        "persons": persons, "selected": selected, "blocks": [shown(b) for b in blocks],
        "client_ref": client_ref or secrets.token_urlsafe(12),
        "next_index": max([b.index for b in blocks], default=-1) + 1,
        # form_draft.js: a draft kept when the session ended goes back only into a form of
        # the same phone (an opaque tag; the phone and account id stay on the server).
        "draft_owner": keyed_hash(str(account_id), settings.secret_key, "form-draft")[:16],
        **person_choices(),
    }
