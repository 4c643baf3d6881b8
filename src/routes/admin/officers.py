"""Quản trị cán bộ (/quan-tri/can-bo): list, create, edit, enrollment links, disable.

Every page works without JavaScript (forms, 303 after a change); with htmx the same handlers
answer the named block of ``admin_officers.html``. A new enrollment link is shown once, in the
answer to the POST that made it — never in a URL, never again.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.arrivals import arrivals
from khaibao.core import forms
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.officers import enrollments, officer_passkeys, officers
from khaibao.officers.officers import OfficerView
from khaibao.regions import region_picker
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/can-bo"
REGION_FIELD = "region"
REGION_LEVELS = ("province", "ward", "village")
DONE = ("sua", "thu-hoi", "khoa", "mo-khoa")  # what ?xong= may announce after a redirect


async def picker_for(form: FormMultiDict | None, code: str | None = None):
    """The scope picker: from a submitted form, or showing ``code`` (may be none)."""
    if form is not None:
        return await region_picker.picker_from_form(form, REGION_FIELD, levels=REGION_LEVELS)
    return await region_picker.picker(levels=REGION_LEVELS, pick=code)


def read_fields(form: FormMultiDict, picker) -> dict[str, Any]:
    """The officer form as typed (kept on error) plus the parsed checkpoint id."""
    fields: dict[str, Any] = {
        key: str(form.get(key, "")).strip() for key in ("name", "role", "checkpoint")}
    fields["region"] = picker.selected.code if picker and picker.selected else ""
    raw = fields["checkpoint"]
    # A value that is not an id cannot name a checkpoint: let the service say so.
    fields["checkpoint_id"] = (forms.row_id(raw) or -1) if raw else None
    return fields


def field_errors(caught: FormErrors) -> dict[str, str]:
    return {key: message(error) for key, error in caught.errors.items()}


async def checkpoint_options(current: int | None = None) -> list[tuple[str, str]]:
    """Active checkpoints (and the officer's current one even when no longer active)."""
    options = [(str(c.id), c.name) for c in await arrivals.checkpoints()]
    if current and all(value != str(current) for value, _label in options):
        for c in await arrivals.checkpoints(active_only=False):
            if c.id == current:
                options.append((str(c.id), _("%(name)s (ngừng hoạt động)", name=c.name)))
    return options


def role_options() -> list[tuple[str, str]]:
    return [(role, _(officers.ROLE_LABELS[role])) for role in officers.ROLES]


class OfficersAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "officers"}
    dependencies = OFFICER_DEPENDENCY

    # --- the list and the create form ------------------------------------------------------

    @get("/", name="admin_officers.list")
    async def list_page(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        return await self._list(request)

    @post("/", name="admin_officers.create")
    async def create(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """Create an officer and hand out their first enrollment link (shown once)."""
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            created = await officers.create(
                fields["name"], fields["role"], region_code=fields["region"] or None,
                checkpoint_id=fields["checkpoint_id"], created_by=officer.id)
        except FormErrors as caught:
            return await self._list(request, fields=fields, picker=picker,
                                    errors=field_errors(caught), status_code=422)
        raw = await enrollments.issue_enrollment(created.id, created_by=officer.id)
        return await self._list(request, new_link=await self._link(created, raw, settings),
                                status_code=201)

    async def _list(self, request: HTMXRequest, *, fields: dict[str, Any] | None = None,
                    picker=None, errors: dict[str, str] | None = None,
                    new_link: dict[str, Any] | None = None, status_code: int = 200
                    ) -> Response:
        fields = fields or {"role": officers.CHECKPOINT}
        return render(request, "admin_officers.html", {
            "view": "list",
            "officers": await officers.list_all(),
            "open_links": await enrollments.open_enrollments(),
            "fields": fields,
            "picker": picker or await picker_for(None),
            "errors": errors or {},
            "new_link": new_link,
            "roles": role_options(),
            "checkpoints": await checkpoint_options(),
        }, block="officers_main", status_code=status_code)

    async def _link(self, target: OfficerView, raw: str, settings: Settings) -> dict[str, Any]:
        return {"officer": target, "url": enrollments.enrollment_url(settings, raw),
                "expires_at": await enrollments.open_enrollment(target.id)}

    # --- one officer -----------------------------------------------------------------------

    @get("/{officer_id:int}", name="admin_officers.detail")
    async def detail(self, request: HTMXRequest, officer: CurrentOfficer, officer_id: FromPath[int],
                     xong: FromQuery[str | None] = None) -> Response:
        target = await self._target(officer_id)
        return await self._detail(request, target, done=xong if xong in DONE else None)

    @post("/{officer_id:int}", name="admin_officers.update")
    async def update(self, request: HTMXRequest,
                     officer: CurrentOfficer, officer_id: FromPath[int]) -> Response:
        """Edit name, role and scope; a new role ends the officer's sessions."""
        target = await self._target(officer_id)
        form = await request.form()
        picker = await picker_for(form)
        fields = read_fields(form, picker)
        try:
            await officers.update(officer_id, fields["name"], fields["role"],
                                  region_code=fields["region"] or None,
                                  checkpoint_id=fields["checkpoint_id"], by=officer.id)
        except FormErrors as caught:
            return await self._detail(request, target, fields=fields, picker=picker,
                                      errors=field_errors(caught), status_code=422)
        return await self._done(request, officer_id, "sua")

    @post("/{officer_id:int}/lien-ket", name="admin_officers.issue_link")
    async def issue_link(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                         officer_id: FromPath[int]) -> Response:
        """A new enrollment link (older open ones stop working), shown once."""
        target = await self._target(officer_id)
        try:
            raw = await enrollments.issue_enrollment(officer_id, created_by=officer.id)
        except InputError as caught:
            return await self._detail(request, target, action_error=message(caught),
                                      status_code=409)
        return await self._detail(request, target,
                                  new_link=await self._link(target, raw, settings),
                                  status_code=201)

    @post("/{officer_id:int}/thu-hoi", name="admin_officers.revoke_link")
    async def revoke_link(self, request: HTMXRequest, officer: CurrentOfficer,
                          officer_id: FromPath[int]
                          ) -> Response:
        await self._target(officer_id)
        await enrollments.revoke_enrollments(officer_id, by=officer.id)
        return await self._done(request, officer_id, "thu-hoi")

    @get("/{officer_id:int}/khoa", name="admin_officers.confirm_disable")
    async def confirm_disable(self, request: HTMXRequest,
                              officer: CurrentOfficer, officer_id: FromPath[int]
                              ) -> Response:
        """Ask before disabling: the page (or block) with a confirmation form."""
        target = await self._target(officer_id)
        return await self._detail(request, target, confirm=True)

    @post("/{officer_id:int}/khoa", name="admin_officers.disable")
    async def disable(self, request: HTMXRequest, officer: CurrentOfficer, officer_id: FromPath[int]
                      ) -> Response:
        """Disable at once: sessions end, open links are revoked."""
        target = await self._target(officer_id)
        try:
            await officers.set_active(officer_id, False, by=officer.id)
        except InputError as caught:
            return await self._detail(request, target, action_error=message(caught),
                                      status_code=409)
        if officer_id == officer.id:  # disabled oneself: this session has just ended
            return redirect(request, "/can-bo/dang-nhap")
        return await self._done(request, officer_id, "khoa")

    @post("/{officer_id:int}/mo-khoa", name="admin_officers.enable")
    async def enable(self, request: HTMXRequest, officer: CurrentOfficer, officer_id: FromPath[int]
                     ) -> Response:
        await self._target(officer_id)
        await officers.set_active(officer_id, True, by=officer.id)
        return await self._done(request, officer_id, "mo-khoa")

    async def _target(self, officer_id: int) -> OfficerView:
        target = await officers.get(officer_id)
        if target is None:
            raise NotFoundException()
        return target

    async def _done(self, request: HTMXRequest, officer_id: int, done: str) -> Response:
        """After a change: the fresh detail block for htmx, a 303 for a plain form."""
        if request.htmx:
            target = await self._target(officer_id)
            return await self._detail(request, target, done=done)
        return redirect(request, f"{BASE}/{officer_id}?xong={done}")

    async def _detail(self, request: HTMXRequest, target: OfficerView, *,
                      fields: dict[str, Any] | None = None, picker=None,
                      errors: dict[str, str] | None = None, action_error: str | None = None,
                      new_link: dict[str, Any] | None = None, confirm: bool = False,
                      done: str | None = None, status_code: int = 200) -> Response:
        keys = await officer_passkeys.list_for(target.id)
        target = OfficerView(**{**target.__dict__, "passkey_count": len(keys)})
        fields = fields or {"name": target.name, "role": target.role,
                            "checkpoint": str(target.checkpoint_id or ""),
                            "region": target.region_code or ""}
        return render(request, "admin_officers.html", {
            "view": "detail",
            "target": target,
            "passkeys": keys,
            "open_link": await enrollments.open_enrollment(target.id),
            "fields": fields,
            "picker": picker or await picker_for(None, target.region_code),
            "errors": errors or {},
            "action_error": action_error,
            "new_link": new_link,
            "confirm": confirm,
            "done": done,
            "roles": role_options(),
            "checkpoints": await checkpoint_options(target.checkpoint_id),
        }, block="officer_detail", status_code=status_code)
