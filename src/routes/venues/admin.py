"""Venues for venue staff and admins: register and edit venues (/quan-tri/diem-den), the
venue's own scanner (/diem-den/{id}/quet) and its dashboard (/diem-den/{id}).

Who may do what ("venues" permission: admin and venue roles):
* admins see and manage every venue, and alone choose which venue staff run a venue;
* venue staff see only the venues they run; a venue they register is theirs at once; they
  edit, pause, re-issue the poster code of, scan at and read the numbers of their venues.
  Another venue answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.core import clock, forms
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.officers import lookups, officers
from khaibao.officers.officers import OfficerView
from khaibao.regions import region_picker
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard
from khaibao.routes.venues.charts import dashboard_charts
from khaibao.venues import staff_checkin, venue_stats, venues
from khaibao.venues.venues import VenueView

BASE = "/quan-tri/diem-den"
REGION_FIELD = "region"
REGION_LEVELS = ("province", "ward", "village")
FIELDS = ("name", "kind", "address", "owner_org", "daily_visitors")
CHECK_OUT = "ra"  # the scanner's mode field (che_do): "vao" checks in, "ra" checks out
DONE = ("them", "sua", "tam-dung", "kich-hoat", "nhan-vien", "ma-moi")


async def picker_for(form: FormMultiDict | None, code: str | None = None):
    if form is not None:
        return await region_picker.picker_from_form(form, REGION_FIELD, levels=REGION_LEVELS)
    return await region_picker.picker(levels=REGION_LEVELS, pick=code)


def read_fields(form: FormMultiDict, picker) -> dict[str, str]:
    fields = {key: str(form.get(key, "")).strip() for key in FIELDS}
    fields["region"] = picker.selected.code if picker and picker.selected else ""
    return fields


def view_fields(venue: VenueView) -> dict[str, Any]:
    return {"name": venue.name, "kind": venue.kind, "address": venue.address,
            "owner_org": venue.owner_org, "daily_visitors": venue.daily_visitors or ""}


async def venue_for(officer: OfficerView, venue_id: FromPath[int]) -> VenueView:
    """The venue if this officer may run it; 404 otherwise (others' venues stay unseen)."""
    venue = await venues.get(venue_id)
    if venue is None or not (officer.is_admin
                             or venue_id in await venues.staff_venue_ids(officer.id)):
        raise NotFoundException()
    return venue


async def venue_staff_choices() -> list[tuple[int, str]]:
    """Active venue-staff officers, the people an admin can put in charge of a venue."""
    return [(o.id, o.name) for o in await officers.list_all()
            if o.role == officers.VENUE and o.active]


class VenueAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "venues"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="venue_admin.list")
    async def list_page(self, request: HTMXRequest, officer: CurrentOfficer,
                        xong: FromQuery[str | None] = None) -> Response:
        return await self._list(request, officer, done=xong if xong in DONE else None)

    @post("/", name="venue_admin.create")
    async def create(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """Register a venue; venue staff who register one run it."""
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            venue = await venues.create(await venues.parse_checked(fields, settings), settings,
                                        created_by=officer.id)
        except FormErrors as caught:
            errors = {key: message(error) for key, error in caught.errors.items()}
            return await self._list(request, officer, fields=fields, picker=picker,
                                    errors=errors, status_code=422)
        if not officer.is_admin:
            await venues.set_staff(venue.id, {officer.id}, by=officer.id)
        return await self._done(request, officer, settings, venue.id, "them")

    async def _list(self, request: HTMXRequest, officer: CurrentOfficer, *,
                    fields: dict[str, Any] | None = None, picker=None,
                    errors: dict[str, str] | None = None, done: str | None = None,
                    status_code: int = 200) -> Response:
        rows = await venues.list_venues(officer_id=None if officer.is_admin else officer.id)
        ids = [v.id for v in rows]
        return render(request, "venue_admin.html", {
            "view": "list",
            "venues": rows,
            "staff": await venues.staff_by_venue(ids),
            "today": await venue_stats.today_counts(ids),
            "kinds": venues.KINDS,
            "fields": fields or {"kind": ""},
            "picker": picker or await picker_for(None),
            "errors": errors or {},
            "done": done,
        }, block="venues_main", status_code=status_code)

    @get("/{venue_id:int}", name="venue_admin.detail")
    async def detail(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                     venue_id: FromPath[int], xong: FromQuery[str | None] = None) -> Response:
        venue = await venue_for(officer, venue_id)
        return await self._detail(request, officer, settings, venue,
                                  done=xong if xong in DONE else None)

    @post("/{venue_id:int}", name="venue_admin.update")
    async def update(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                     venue_id: FromPath[int]) -> Response:
        venue = await venue_for(officer, venue_id)
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            data = await venues.parse_checked(fields, settings, venue_id=venue_id)
            await venues.update(venue_id, data, by=officer.id, settings=settings)
        except FormErrors as caught:
            errors = {key: message(error) for key, error in caught.errors.items()}
            return await self._detail(request, officer, settings, venue, fields=fields,
                                      picker=picker, errors=errors, status_code=422)
        return await self._done(request, officer, settings, venue_id, "sua")

    @post("/{venue_id:int}/tam-dung", name="venue_admin.disable")
    async def disable(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                      venue_id: FromPath[int]) -> Response:
        await venue_for(officer, venue_id)
        await venues.set_active(venue_id, False, by=officer.id)
        return await self._done(request, officer, settings, venue_id, "tam-dung")

    @post("/{venue_id:int}/kich-hoat", name="venue_admin.enable")
    async def enable(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                     venue_id: FromPath[int]) -> Response:
        await venue_for(officer, venue_id)
        await venues.set_active(venue_id, True, by=officer.id)
        return await self._done(request, officer, settings, venue_id, "kich-hoat")

    @post("/{venue_id:int}/ma-moi", name="venue_admin.reissue")
    async def reissue(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                      venue_id: FromPath[int]) -> Response:
        """A new poster code: posters printed before stop working."""
        await venue_for(officer, venue_id)
        await venues.reissue_code(venue_id, settings, by=officer.id)
        return await self._done(request, officer, settings, venue_id, "ma-moi")

    @post("/{venue_id:int}/nhan-vien", name="venue_admin.staff")
    async def staff(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                    venue_id: FromPath[int]) -> Response:
        """Admins only: exactly the ticked venue-staff officers run the venue."""
        if not officer.is_admin:
            raise PermissionDeniedException()
        await venue_for(officer, venue_id)
        form = await request.form()
        allowed = {officer_id for officer_id, _name in await venue_staff_choices()}
        chosen = set(forms.row_ids(form, "staff"))
        await venues.set_staff(venue_id, chosen & allowed, by=officer.id)
        return await self._done(request, officer, settings, venue_id, "nhan-vien")

    async def _done(self, request: HTMXRequest, officer: CurrentOfficer, settings: Settings,
                    venue_id: int, done: str) -> Response:
        if request.htmx:
            return await self._detail(request, officer, settings,
                                      await venue_for(officer, venue_id), done=done)
        return redirect(request, f"{BASE}/{venue_id}?xong={done}")

    async def _detail(self, request: HTMXRequest, officer: CurrentOfficer, settings: Settings,
                      venue: VenueView, *,
                      fields: dict[str, Any] | None = None, picker=None,
                      errors: dict[str, str] | None = None, done: str | None = None,
                      status_code: int = 200) -> Response:
        staff = (await venues.staff_by_venue([venue.id])).get(venue.id, [])
        return render(request, "venue_admin.html", {
            "view": "detail",
            "venue": venue,
            "kinds": venues.KINDS,
            "staff": staff,
            "staff_ids": {officer_id for officer_id, _name in staff},
            "staff_choices": await venue_staff_choices() if officer.is_admin else [],
            "poster_url": venue.poster_url(settings),
            "fields": fields or view_fields(venue),
            "picker": picker or await picker_for(None, venue.region_code),
            "errors": errors or {},
            "done": done,
        }, block="venue_detail", status_code=status_code)


class VenueStaffController(Controller):
    """The venue's own pages: its scanner and its dashboard."""

    path = "/diem-den"
    guards = [officer_guard]
    opt = {"permission": "venues"}
    dependencies = OFFICER_DEPENDENCY

    @get("/{venue_id:int}", name="venue_admin.dashboard")
    async def dashboard(self, request: HTMXRequest, officer: CurrentOfficer, venue_id: FromPath[int]
                        ) -> Response:
        venue = await venue_for(officer, venue_id)
        now = clock.now()
        board = await venue_stats.dashboard(venue.id, venue.daily_visitors, now=now)
        return render(request, "venue_dashboard.html", {
            "venue": venue, "board": board, "now": now, **dashboard_charts(board, venue),
        })

    @get("/{venue_id:int}/quet", name="venue_admin.scan_page")
    async def scan_page(self, request: HTMXRequest, officer: CurrentOfficer, venue_id: FromPath[int]
                        ) -> Response:
        venue = await venue_for(officer, venue_id)
        return render(request, "venue_scan.html", {"venue": venue})

    @post("/{venue_id:int}/quet", name="venue_admin.scan")
    async def scan(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   venue_id: FromPath[int]) -> Response:
        """One scan or typed code (in the body, never the URL): check the person in, or out
        when the scanner is in check-out mode (``che_do=ra``)."""
        venue = await venue_for(officer, venue_id)
        form = await request.form()
        checking_out = form.get("che_do") == CHECK_OUT
        context: dict[str, Any] = {"venue": venue, "checking_out": checking_out}
        status = 200
        read = staff_checkin.scan_out if checking_out else staff_checkin.scan
        try:
            context["result"] = await read(venue, str(form.get("q", "")), officer, settings)
        except InputError as error:
            context["field_error"] = message(error)
            status = 422
        except staff_checkin.VenueInactive:
            context["field_error"] = message(staff_checkin.error("staff_checkin.inactive"))
            status = 409
        except lookups.LookupRefused as refused:  # typed ID numbers beyond the cap
            context["field_error"] = message(refused.error)
            return render(request, "venue_scan.html", context, block="scan", status_code=429,
                          headers={"Retry-After": str(refused.retry_after)})
        return render(request, "venue_scan.html", context, block="scan", status_code=status)
