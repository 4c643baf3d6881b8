"""Arrival declaration (/khaibao, "Khai báo về Huế") and its lookup."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from khaibao.arrivals import arrivals
from khaibao.arrivals.trip_form import TripFields, arrival_form, trip_pickers
from khaibao.arrivals.trips import TRANSPORTS
from khaibao.checks import checks
from khaibao.citizens import declaration_forms, people
from khaibao.citizens.declaration_forms import PersonBlock
from khaibao.core import clock
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.routes.citizens.auth import citizen_session, require_citizen, safe_next
from khaibao.routes.citizens.person_form import form_context, persons_context
from khaibao.verdicts import verdicts


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
                      client_ref: str = "", status_code: int = 200) -> Response:
        persons = await persons_context(account_id, settings, selected=selected, blocks=blocks,
                                        client_ref=client_ref)
        return render(request, "arrival.html", {
            **persons,
            "errors": errors or {}, "trip": trip or TripFields(),
            "pickers": trip.pickers if trip else await trip_pickers(settings, None),
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
