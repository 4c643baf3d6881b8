"""Arrival declaration (/khaibao, "Khai báo về Huế") and its lookup."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.arrivals import arrivals, trips
from khaibao.arrivals.trips import TRANSPORTS
from khaibao.checks import checks
from khaibao.citizens import people
from khaibao.core import clock
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.regions import region_picker
from khaibao.routes.citizens.auth import citizen_session, require_citizen, safe_next
from khaibao.routes.citizens.person_form import (
    assign_errors,
    message,
    persons_context,
    read_persons,
)
from khaibao.verdicts import verdicts

PASSED_PICKERS = 3
ORIGIN_LEVELS = ("province", "ward", "village")
TRIP_FIELDS = ("origin_country", "origin_detail", "departure_date", "arrival_at", "transport",
               "vehicle_number", "checkpoint", "destination_detail", "purpose", "contact_phone")


async def trip_pickers(settings, form: FormMultiDict | None) -> dict[str, Any]:
    """The region pickers of the trip: origin, places passed through, destination. The origin
    and the destination go down to the village or residential group (thôn / tổ dân phố)
    where the ward has them: quarantine policies may target a single village."""
    async def read(name: str, **options: Any):
        if form is None:
            return await region_picker.picker(**options)
        return await region_picker.picker_from_form(form, name, **options)

    origin = {"levels": ORIGIN_LEVELS}
    destination = {"root_code": settings.province_code, "levels": ("ward", "village")}
    return {
        "origin": await read("origin_region", **origin),
        "passed": [await read(f"passed{i}_region") for i in range(PASSED_PICKERS)],
        "destination": await read("destination_region", **destination),
    }


def read_trip_fields(form: FormMultiDict, pickers: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in TRIP_FIELDS}
    chosen = pickers["origin"].selected if pickers["origin"] else None
    fields["origin_region"] = chosen.code if chosen else ""
    fields["passed_regions"] = [p.selected.code for p in pickers["passed"] if p and p.selected]
    chosen = pickers["destination"].selected if pickers["destination"] else None
    fields["destination_region"] = chosen.code if chosen else ""
    return fields


class ArrivalController(Controller):
    path = "/khaibao"

    @get("/", name="arrival.khaibao")
    async def khaibao(self, request: HTMXRequest, settings: AppSettings,
                      tiep: FromQuery[str | None] = None) -> Response:
        """Khai báo về …: verify the phone first (or go straight on when signed in)."""
        province = settings.province_name
        target = safe_next(tiep) if tiep else "/khaibao/khai-bao"
        if await citizen_session(request, settings):
            return Redirect(path=target, status_code=303)
        return render(request, "verify_phone.html", {
            "heading": _("Khai báo về %(province)s", province=province),
            "intro": _("Dành cho người từ ngoài tỉnh vào %(province)s và người trong tỉnh đi "
                       "công tác, học tập, làm việc ngoài tỉnh trở về.", province=province),
            "actions": [(target, _("Khai báo về %(province)s", province=province), True),
                        ("/khaibao/tra-cuu", _("Tra cứu"), False)],
            "phone": "", "error": None, "sent": None, "next": target, "back": "/khaibao",
        })

    @get("/khai-bao", name="arrival.form")
    async def form(self, request: HTMXRequest, settings: AppSettings) -> Response:
        account_id = await require_citizen(request, settings)
        return await self._render(request, account_id, settings)

    @post("/khai-bao", name="arrival.submit")
    async def submit(self, request: HTMXRequest, settings: AppSettings) -> Response:
        """Validate everything; save nothing unless the whole submission is valid."""
        account_id = await require_citizen(request, settings)
        form = await request.form()
        selected, blocks, parsed = await read_persons(form)
        pickers = await trip_pickers(settings, form)
        fields = read_trip_fields(form, pickers)
        client_ref = str(form.get("client_ref", ""))
        errors: dict[str, str] = {}
        trip = None
        try:
            trip = trips.parse_trip(fields, province_code=settings.province_code,
                                       today=clock.today())
        except FormErrors as caught:
            errors.update({key: message(error) for key, error in caught.errors.items()})
        if trip and not errors and not any(block["errors"] for block in blocks):
            try:
                submission = await arrivals.submit(
                    account_id, person_ids=selected, new_persons=parsed, trip=trip,
                    client_ref=client_ref, settings=settings,
                    province_code=settings.province_code, province_name=settings.province_name,
                )
            except FormErrors as caught:
                errors.update(assign_errors(blocks, caught.errors))
            else:
                return redirect(request, f"/khaibao/tra-cuu?ref={submission.client_ref}")
        return await self._render(request, account_id, settings, selected=selected, blocks=blocks,
                                  errors=errors, trip=fields, pickers=pickers,
                                  client_ref=client_ref, status_code=422)

    async def _render(self, request: HTMXRequest, account_id: int, settings: Settings, *,
                      selected: list[int] | None = None,
                      blocks: list[dict[str, Any]] | None = None,
                      errors: dict[str, str] | None = None, trip: dict[str, Any] | None = None,
                      pickers: dict[str, Any] | None = None, client_ref: str = "",
                      status_code: int = 200) -> Response:
        persons = await persons_context(account_id, settings, selected=selected, blocks=blocks,
                                        client_ref=client_ref)
        return render(request, "arrival.html", {
            **persons,
            "errors": errors or {}, "trip": trip or {"origin_country": "VN"},
            "pickers": pickers or await trip_pickers(settings, None),
            "transports": [(code, _(label)) for code, label in TRANSPORTS],
            "checkpoints": [(str(c.id), c.name) for c in await arrivals.checkpoints()],
        }, block="form", status_code=status_code)

    @get("/tra-cuu", name="arrival.lookup")
    async def lookup(self, request: HTMXRequest, settings: AppSettings,
                     ref: FromQuery[str | None] = None) -> Response:
        """Tra cứu: the persons of this phone with their arrival declarations."""
        account_id = await require_citizen(request, settings)
        persons = await people.persons_of(account_id, settings)
        by_person = await arrivals.arrivals_of_account(account_id)
        submitted = await arrivals.submission(account_id, ref, settings) if ref else None
        # Each person's verdict now, the one the checkpoint gives (a policy changed a minute
        # ago shows at once; so does a declared contact or a venue under a point policy).
        verdict_of = await verdicts.verdicts_of([p.id for p in persons], settings,
                                                at=clock.now())
        return render(request, "arrival_lookup.html", {
            "rows": [(p, by_person.get(p.id, [])) for p in persons], "submitted": submitted,
            "verdict_of": verdict_of, "colour_labels": checks.COLOUR_LABELS,
        })
