"""The health or arrival declaration form filled for someone else: by an officer (assisted or
paper entry) or at a checkpoint kiosk. The form is read, checked and submitted by
``citizens.declaration_forms`` like the citizen's own; this shows it with the template
``_declaration_form.html`` (the person fieldsets of person_form, the trip pickers of
``arrivals.trip_form``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from khaibao.arrivals import arrivals
from khaibao.arrivals.trip_form import TripFields, arrival_form, trip_pickers
from khaibao.arrivals.trips import TRANSPORTS
from khaibao.citizens import declaration_forms, declarations, people
from khaibao.citizens.declaration_forms import (
    HEALTH_FORM,
    FormKind,
    HealthFields,
    PersonBlock,
    PersonFields,
    person_block,
)
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.routes.citizens.person_form import form_context, person_choices, shown

KINDS = ("kbyt", "khaibao")  # health declaration, arrival declaration


def kind_or_default(value: str | None) -> str:
    return value if value in KINDS else "kbyt"


async def context(settings: Settings, kind: str, *, persons: Sequence[people.PersonView] = (),
                  selected: list[int] | None = None,
                  blocks: list[PersonBlock] | None = None,
                  errors: dict[str, str] | None = None, health: HealthFields | None = None,
                  trip: TripFields | None = None, client_ref: str = "",
                  new_person: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What ``_declaration_form.html`` shows. ``persons`` are offered as ticked choices (an
    existing person found by an officer, the persons of a phone verified at a kiosk); without
    any, one new person fieldset is shown (prefilled with ``new_person``)."""
    persons = list(persons)
    if selected is None:
        selected = [p.id for p in persons[:1]]
    if blocks is None:
        prefilled = PersonFields(**new_person) if new_person else None
        blocks = [] if persons else [await person_block(0, prefilled)]
    ctx: dict[str, Any] = {
        "kind": kind, "persons": persons, "selected": selected,
        "blocks": [shown(b) for b in blocks], "errors": errors or {},
        "client_ref": client_ref or secrets.token_urlsafe(12), **person_choices(),
    }
    if kind == "kbyt":
        ctx.update(
            health=health or HealthFields(),
            symptom_choices=[(c, _(label)) for c, label in declarations.SYMPTOMS],
            exposure_choices=[(c, _(label)) for c, label in declarations.EXPOSURES])
    else:
        ctx.update(
            trip=trip or TripFields(),
            pickers=trip.pickers if trip else await trip_pickers(settings, None),
            transports=[(code, _(label)) for code, label in TRANSPORTS],
            checkpoints=[(str(c.id), c.name) for c in await arrivals.checkpoints()])
    return ctx


@dataclass
class Result:
    """A saved submission, or the context to show the form again (422)."""

    submission: Any = None
    context: dict[str, Any] = field(default_factory=dict)


async def submit(settings: Settings, form: Mapping[str, Any], kind: str, *,
                 account_id: int | None, channel: str, officer_id: int | None,
                 may_choose: bool, persons: Sequence[people.PersonView] = (),
                 errors: dict[str, str] | None = None) -> Result:
    """Validate the whole form and save it, all or nothing.

    ``may_choose``: whether ticked existing persons are accepted (an officer; a phone verified
    at a kiosk, whose persons the service checks) — a kiosk without a phone only adds new
    persons, so nobody can declare for (and see the QR of) a stranger by editing the form.
    ``errors``: the caller's own field errors (nothing is saved when there are any)."""
    form_kind: FormKind[Any, Any] = HEALTH_FORM if kind == "kbyt" else arrival_form(settings)
    declared, submission = await declaration_forms.declare(
        form, form_kind, account_id, settings=settings, channel=channel,
        officer_id=officer_id, may_choose=may_choose, hold=bool(errors))
    if submission is not None:
        return Result(submission=submission)
    shown_again = form_context(declared)
    shown_again["errors"] = {**(errors or {}), **shown_again["errors"]}
    answers: dict[str, Any] = ({"health": declared.fields} if kind == "kbyt"
                               else {"trip": declared.fields})
    ctx = await context(settings, kind, persons=persons, **shown_again, **answers)
    return Result(context=ctx)
