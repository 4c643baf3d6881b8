"""The health or arrival declaration form filled for someone else: by an officer (assisted or
paper entry) or at a checkpoint kiosk. It reuses the citizen form's parts — person fieldsets
(person_form), ``declarations.parse_health``, ``trips.parse_trip`` and the trip pickers of
the arrival page — and the template ``_declaration_form.html``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import FormMultiDict

from khaibao.arrivals import arrivals, trips
from khaibao.arrivals.trips import TRANSPORTS
from khaibao.citizens import declarations, people
from khaibao.core import clock
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.routes.arrivals.declaration import read_trip_fields, trip_pickers
from khaibao.routes.citizens.person_form import (
    assign_errors,
    message,
    person_block,
    person_choices,
    read_persons,
)

KINDS = ("kbyt", "khaibao")  # health declaration, arrival declaration


def kind_or_default(value: str | None) -> str:
    return value if value in KINDS else "kbyt"


def _health_fields(form: FormMultiDict) -> dict[str, Any]:
    return {"places_visited": str(form.get("places_visited", "")),
            "symptoms": form.getall("symptoms", []),
            "exposures": form.getall("exposures", []),
            "pledge": str(form.get("pledge", ""))}


async def context(settings: Settings, kind: str, *, persons: Sequence[people.PersonView] = (),
                  selected: list[int] | None = None,
                  blocks: list[dict[str, Any]] | None = None,
                  errors: dict[str, str] | None = None, health: dict[str, Any] | None = None,
                  trip: dict[str, Any] | None = None, pickers: dict[str, Any] | None = None,
                  client_ref: str = "", new_person: dict[str, str] | None = None
                  ) -> dict[str, Any]:
    """What ``_declaration_form.html`` shows. ``persons`` are offered as ticked choices (an
    existing person found by an officer, the persons of a phone verified at a kiosk); without
    any, one new person fieldset is shown (prefilled with ``new_person``)."""
    persons = list(persons)
    if selected is None:
        selected = [p.id for p in persons[:1]]
    if blocks is None:
        blocks = [] if persons else [await person_block(0, new_person)]
    ctx: dict[str, Any] = {
        "kind": kind, "persons": persons, "selected": selected, "blocks": blocks,
        "errors": errors or {}, "client_ref": client_ref or secrets.token_urlsafe(12),
        **person_choices(),
    }
    if kind == "kbyt":
        ctx.update(
            health=health or {"symptoms": [], "exposures": []},
            symptom_choices=[(c, _(label)) for c, label in declarations.SYMPTOMS],
            exposure_choices=[(c, _(label)) for c, label in declarations.EXPOSURES])
    else:
        ctx.update(
            trip=trip or {"origin_country": "VN"},
            pickers=pickers or await trip_pickers(settings, None),
            transports=[(code, _(label)) for code, label in TRANSPORTS],
            checkpoints=[(str(c.id), c.name) for c in await arrivals.checkpoints()])
    return ctx


@dataclass
class Result:
    """A saved submission, or the context to show the form again (422)."""

    submission: Any = None
    context: dict[str, Any] = field(default_factory=dict)


async def submit(settings: Settings, form: FormMultiDict, kind: str, *, account_id: int | None,
                 channel: str, officer_id: int | None, may_choose: bool,
                 persons: Sequence[people.PersonView] = (),
                 errors: dict[str, str] | None = None) -> Result:
    """Validate the whole form and save it, all or nothing.

    ``may_choose``: whether ticked existing persons are accepted (an officer; a phone verified
    at a kiosk, whose persons the service checks) — a kiosk without a phone only adds new
    persons, so nobody can declare for (and see the QR of) a stranger by editing the form.
    ``errors``: the caller's own field errors (nothing is saved when there are any)."""
    selected, blocks, parsed = await read_persons(form)
    if not may_choose:
        selected = []
        if not blocks:
            blocks = [await person_block(0)]
    client_ref = str(form.get("client_ref", ""))
    errors = dict(errors or {})
    health_fields = trip_fields = pickers = None
    parsed_form: Any = None
    try:
        if kind == "kbyt":
            health_fields = _health_fields(form)
            parsed_form = declarations.parse_health(health_fields)
        else:
            pickers = await trip_pickers(settings, form)
            trip_fields = read_trip_fields(form, pickers)
            parsed_form = trips.parse_trip(trip_fields, province_code=settings.province_code,
                                              today=clock.today())
    except FormErrors as caught:
        errors.update({key: message(error) for key, error in caught.errors.items()})
    if parsed_form is not None and not errors and not any(b["errors"] for b in blocks):
        common: dict[str, Any] = {
            "person_ids": selected, "new_persons": parsed, "client_ref": client_ref,
            "settings": settings, "channel": channel, "officer_id": officer_id}
        submission: declarations.Submission | arrivals.ArrivalSubmission
        try:
            if kind == "kbyt":
                submission = await declarations.submit(account_id, health=parsed_form, **common)
            else:
                submission = await arrivals.submit(
                    account_id, trip=parsed_form, province_code=settings.province_code,
                    province_name=settings.province_name, **common)
        except FormErrors as caught:
            errors.update(assign_errors(blocks, caught.errors))
        else:
            return Result(submission=submission)
    ctx = await context(settings, kind, persons=persons, selected=selected, blocks=blocks,
                        errors=errors, health=health_fields, trip=trip_fields, pickers=pickers,
                        client_ref=client_ref)
    return Result(context=ctx)
