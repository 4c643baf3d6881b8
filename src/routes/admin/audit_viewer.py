"""Nhật ký truy cập (/quan-tri/nhat-ky): the admins' audit log viewer."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import audit_viewer
from khaibao.arrivals import local_arrivals
from khaibao.core import forms
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, render
from khaibao.officers import lookups, officers
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

ID_NUMBER_MIN_DIGITS = 8  # a passport has 8 or more characters, a CMND 9 digits
ID_NUMBER_MAX_LENGTH = 20
FILTER_FIELDS = ("can_bo", "hanh_dong", "nguoi", "tu", "den")


def _int(raw: str | None) -> int | None:
    return forms.row_id((raw or "").strip().lstrip("#"))


def _internal_id(raw: str) -> int | None:
    """``#125`` or a number too short to be an ID number (CMND has 9 digits): an internal id."""
    raw = raw.strip()
    digits = raw.lstrip("#")
    if digits.isdigit() and (raw.startswith("#") or len(digits) < ID_NUMBER_MIN_DIGITS):
        return int(digits) if len(digits) < 12 else None
    return None


class AuditViewerController(Controller):
    path = "/quan-tri/nhat-ky"
    guards = [officer_guard]
    opt = {"permission": "audit"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="audit_viewer.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   can_bo: FromQuery[str | None] = None,
                   hanh_dong: FromQuery[str | None] = None,
                   nguoi: FromQuery[str | None] = None, tu: FromQuery[str | None] = None,
                   den: FromQuery[str | None] = None,
                   truoc: FromQuery[str | None] = None) -> Response:
        """The newest entries that match the filter (100 a page). In the URL the person is
        only an internal id: an ID number is sent in the body (the form posts)."""
        values = {"can_bo": can_bo or "", "hanh_dong": hanh_dong or "", "nguoi": nguoi or "",
                  "tu": tu or "", "den": den or ""}
        return await self._page(request, officer, settings, values, truoc, in_body=False)

    @post("/", name="audit_viewer.filter")
    async def filter(self, request: HTMXRequest, officer: CurrentOfficer,
                     settings: AppSettings) -> Response:
        """The filter form: as the page, and the person may be an ID number, found by its
        keyed hash as the check does (an audited officer lookup)."""
        form = await request.form()
        values = {key: str(form.get(key, ""))[:100] for key in FILTER_FIELDS}
        return await self._page(request, officer, settings, values,
                                 str(form.get("truoc", "")), in_body=True)

    async def _page(self, request: HTMXRequest, officer: CurrentOfficer, settings: Settings,
                    values: dict[str, str], truoc: str | None, *, in_body: bool) -> Response:
        errors: dict[str, str] = {}
        status = 422
        person_id = _internal_id(values["nguoi"])
        person_ids: tuple[int, ...] | None = None
        typed = "".join(values["nguoi"].split())
        if typed and person_id is None:
            if not (in_body and typed.isalnum()
                    and ID_NUMBER_MIN_DIGITS <= len(typed) <= ID_NUMBER_MAX_LENGTH):
                errors["nguoi"] = _("Nhập mã người khai báo (ví dụ #125) hoặc số giấy tờ "
                                    "(CCCD, CMND, hộ chiếu).")
            else:
                try:
                    person_ids = tuple(await audit_viewer.person_ids_by_id_number(
                        typed, officer, settings))
                except lookups.LookupRefused as refused:
                    errors["nguoi"], status = message(refused.error), 429
                else:
                    if not person_ids:
                        errors["nguoi"] = _("Không có người khai báo nào với số giấy tờ này.")
                        status = 404
        since = until = None
        if values["tu"] or values["den"]:
            today = local_arrivals.today_local()
            try:
                start, end, _d = local_arrivals.parse_range(
                    values["tu"] or values["den"], values["den"] or values["tu"], "",
                    today=today)
                since, until = local_arrivals.local_bounds(start, end)
            except FormErrors as caught:
                errors.update({k: message(e) for k, e in caught.errors.items()})
        context: dict[str, Any] = {
            "values": values, "errors": errors,
            "officers": audit_viewer.officer_choices(await officers.list_all()),
            "actions": audit_viewer.action_choices(await audit_viewer.actions()),
            "rows": [], "next_before": None,
        }
        if errors:
            return render(request, "audit_viewer.html", context, status_code=status)
        query = audit_viewer.AuditFilter(
            officer_id=_int(values["can_bo"]), action=values["hanh_dong"].strip(),
            person_id=person_id, person_ids=person_ids, since=since, until=until,
            before=_int(truoc))
        rows = await audit_viewer.entries(query)
        context["rows"] = rows
        if len(rows) == audit_viewer.PAGE:
            context["next_params"] = {**{k: v for k, v in values.items() if v},
                                      "truoc": rows[-1].id}
            # an ID number goes on in the body: the next page is a form, not a link
            context["next_in_body"] = person_ids is not None
        return render(request, "audit_viewer.html", context, block="entries")
