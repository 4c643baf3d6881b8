"""Nhật ký truy cập (/quan-tri/nhat-ky): the admins' audit log viewer."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import audit_viewer
from khaibao.arrivals import local_arrivals
from khaibao.core import forms
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import gettext as _
from khaibao.core.web import render
from khaibao.officers import officers
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard


def _int(raw: str | None) -> int | None:
    return forms.row_id((raw or "").strip().lstrip("#"))


class AuditViewerController(Controller):
    path = "/quan-tri/nhat-ky"
    guards = [officer_guard]
    opt = {"permission": "audit"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="audit_viewer.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer,
                   can_bo: FromQuery[str | None] = None,
                   hanh_dong: FromQuery[str | None] = None,
                   nguoi: FromQuery[str | None] = None, tu: FromQuery[str | None] = None,
                   den: FromQuery[str | None] = None,
                   truoc: FromQuery[str | None] = None) -> Response:
        """The newest entries that match the filter (100 a page)."""
        errors: dict[str, str] = {}
        values = {"can_bo": can_bo or "", "hanh_dong": hanh_dong or "", "nguoi": nguoi or "",
                  "tu": tu or "", "den": den or ""}
        if nguoi and _int(nguoi) is None:
            errors["nguoi"] = _("Nhập số mã người khai báo (ví dụ 125).")
        since = until = None
        if tu or den:
            today = local_arrivals.today_local()
            try:
                start, end, _d = local_arrivals.parse_range(tu or den, den or tu, "", today=today)
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
            return render(request, "audit_viewer.html", context, status_code=422)
        query = audit_viewer.AuditFilter(
            officer_id=_int(can_bo), action=(hanh_dong or "").strip(),
            person_id=_int(nguoi), since=since, until=until, before=_int(truoc))
        rows = await audit_viewer.entries(query)
        context["rows"] = rows
        if len(rows) == audit_viewer.PAGE:
            context["next_params"] = {**{k: v for k, v in values.items() if v},
                                      "truoc": rows[-1].id}
        return render(request, "audit_viewer.html", context, block="entries")
