"""Arrival declaration (/khaibao, "Khai báo về Huế") and its lookup."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.arrivals import arrivals
from khaibao.arrivals.trip_form import TripFields, arrival_form, stored_fields, trip_pickers
from khaibao.arrivals.trips import TRANSPORTS
from khaibao.checks import checks
from khaibao.citizens import declaration_forms, people
from khaibao.citizens.declaration_forms import PersonBlock
from khaibao.core import clock, i18n
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.routes.citizens.auth import citizen_session, require_citizen, safe_next
from khaibao.routes.citizens.person_form import form_context, messages, persons_context
from khaibao.verdicts import verdicts
from khaibao.vn import countries


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
        form, submission = await declaration_forms.declare(
            await request.form(), arrival_form(settings), account_id, settings=settings)
        if submission is not None:
            return redirect(request, f"/khaibao/tra-cuu?ref={submission.client_ref}")
        return await self._render(request, account_id, settings, **form_context(form),
                                  trip=form.fields, status_code=422)

    async def _render(self, request: HTMXRequest, account_id: int, settings: Settings, *,
                      selected: list[int] | None = None,
                      blocks: list[PersonBlock] | None = None,
                      errors: dict[str, str] | None = None, trip: TripFields | None = None,
                      client_ref: str = "", status_code: int = 200,
                      editing: arrivals.StoredTrip | None = None) -> Response:
        # Correcting a trip shows no persons, but still the countries of its origin.
        persons: dict[str, Any] = {
            "nationalities": countries.choices(i18n.current_language.get())
        } if editing else await persons_context(
            account_id, settings, selected=selected, blocks=blocks, client_ref=client_ref)
        return render(request, "arrival.html", {
            **persons, "editing": editing,
            "errors": errors or {}, "trip": trip or TripFields(),
            "pickers": trip.pickers if trip else await trip_pickers(settings, None),
            "transports": [(code, _(label)) for code, label in TRANSPORTS],
            "checkpoints": [(str(c.id), c.name) for c in await arrivals.checkpoints()],
        }, block="form", status_code=status_code)

    @get("/tra-cuu/{arrival_id:int}/sua", name="arrival.edit")
    async def edit(self, request: HTMXRequest, settings: AppSettings,
                   arrival_id: FromPath[int]) -> Response:
        """Sửa: the trip of one of the phone's arrivals, filled in as declared."""
        account_id = await require_citizen(request, settings)
        stored = await _own(account_id, arrival_id)
        trip = await stored_fields(settings, stored)
        errors = ({} if arrivals.changeable(stored.arrival_at, clock.now()) else
                  messages({"arrival": arrivals.too_late_to_change()}))
        return await self._render(request, account_id, settings, trip=trip, errors=errors,
                                  editing=stored)

    @post("/tra-cuu/{arrival_id:int}/sua", name="arrival.correct")
    async def correct(self, request: HTMXRequest, settings: AppSettings,
                      arrival_id: FromPath[int]) -> Response:
        """Save the corrected trip (checked as a new declaration); the person stays."""
        account_id = await require_citizen(request, settings)
        stored = await _own(account_id, arrival_id)
        kind = arrival_form(settings)
        entered = await kind.read(await request.form())
        try:
            await arrivals.correct(account_id, arrival_id, kind.parse(entered),
                                   province_code=settings.province_code,
                                   province_name=settings.province_name)
        except FormErrors as caught:
            return await self._render(request, account_id, settings, trip=entered,
                                      errors=messages(caught.errors), editing=stored,
                                      status_code=422)
        except LookupError:
            raise NotFoundException() from None
        return redirect(request, "/khaibao/tra-cuu?da=sua")

    @get("/tra-cuu/{arrival_id:int}/huy", name="arrival.withdraw_confirm")
    async def withdraw_confirm(self, request: HTMXRequest, settings: AppSettings,
                               arrival_id: FromPath[int]) -> Response:
        """Huỷ khai báo: what is withdrawn, and the button that does it."""
        account_id = await require_citizen(request, settings)
        stored = await _own(account_id, arrival_id)
        error = (None if arrivals.changeable(stored.arrival_at, clock.now()) else
                 messages({"arrival": arrivals.too_late_to_change()})["arrival"])
        return await _withdraw_page(request, account_id, stored, error)

    @post("/tra-cuu/{arrival_id:int}/huy", name="arrival.withdraw")
    async def withdraw(self, request: HTMXRequest, settings: AppSettings,
                       arrival_id: FromPath[int]) -> Response:
        account_id = await require_citizen(request, settings)
        stored = await _own(account_id, arrival_id)
        try:
            await arrivals.withdraw(account_id, arrival_id)
        except FormErrors as caught:
            return await _withdraw_page(request, account_id, stored,
                                        messages(caught.errors)["arrival"], status_code=422)
        except LookupError:
            raise NotFoundException() from None
        return redirect(request, "/khaibao/tra-cuu?da=huy")

    @get("/tra-cuu", name="arrival.lookup")
    async def lookup(self, request: HTMXRequest, settings: AppSettings,
                     ref: FromQuery[str | None] = None,
                     da: FromQuery[str | None] = None) -> Response:
        """Tra cứu: the persons of this phone with their arrival declarations."""
        account_id = await require_citizen(request, settings)
        persons = await people.persons_of(account_id, settings)
        by_person = await arrivals.arrivals_of_account(account_id)
        submitted = await arrivals.submission(account_id, ref, settings) if ref else None
        # Each person's verdict now, the one the checkpoint gives (a policy changed a minute
        # ago shows at once; so does a declared contact or a venue under a point policy).
        verdict_of = await verdicts.verdicts_of([p.id for p in persons], settings,
                                                at=clock.now())
        now = clock.now()
        return render(request, "arrival_lookup.html", {
            "rows": [(p, by_person.get(p.id, [])) for p in persons], "submitted": submitted,
            "verdict_of": verdict_of, "colour_labels": checks.COLOUR_LABELS,
            # "Sửa" / "Huỷ khai báo" are offered while the trip may still change.
            "changeable": {t.id for trips in by_person.values() for t in trips
                           if arrivals.changeable(t.arrival_at, now)},
            "changed": da if da in ("sua", "huy") else None,
        })


async def _own(account_id: int, arrival_id: int) -> arrivals.StoredTrip:
    """One of this phone's arrivals; 404 for any other."""
    stored = await arrivals.own_arrival(account_id, arrival_id)
    if stored is None:
        raise NotFoundException()
    return stored


async def _withdraw_page(request: HTMXRequest, account_id: int, stored: arrivals.StoredTrip,
                         error: str | None, status_code: int = 200) -> Response:
    trips = (await arrivals.arrivals_of_account(account_id)).get(stored.person_id, [])
    trip = next(t for t in trips if t.id == stored.arrival_id)
    return render(request, "arrival_withdraw.html", {"trip": trip, "error": error},
                  status_code=status_code)
