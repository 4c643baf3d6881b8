"""Xuất dữ liệu (/quan-tri/xuat-du-lieu): CSV of health declarations, arrivals or check-ins
for an area and a range of days — streamed from the database in id order (bounded memory for
any size), cells in words in the page's language (:mod:`khaibao.admin.export_rows`) and
neutralised against formula injection (:mod:`exports`), and every export audited with who,
which filter and how many rows (also when the download is cut short).

Local and health officials export only their own area; asking for another is refused (403).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Stream

from khaibao.admin import export_rows, feeds
from khaibao.arrivals import local_arrivals
from khaibao.core import audit, exports, i18n
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _
from khaibao.core.web import render
from khaibao.routes.admin.scope import ScopeRefused, UnknownRegion, is_scoped, resolve
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

DEFAULT_DAYS = 30
KIND_LABELS = {  # translated where shown
    "health_declaration": N_("Khai báo y tế"),
    "arrival": N_("Khai báo người đến"),
    "check_in": N_("Lượt check-in điểm đến"),
}
FILE_STEMS = {"health_declaration": "khai-bao-y-te", "arrival": "nguoi-den",
              "check_in": "check-in"}


class ExportsAdminController(Controller):
    path = "/quan-tri/xuat-du-lieu"
    guards = [officer_guard]
    opt = {"permission": "exports"}
    dependencies = OFFICER_DEPENDENCY

    async def _query(self, request: HTMXRequest, officer: CurrentOfficer, loai: str | None,
                     region: str | None, tu: str | None, den: str | None):
        today = local_arrivals.today_local()
        start, end = today - timedelta(days=DEFAULT_DAYS - 1), today
        context: dict[str, Any] = {
            "errors": {}, "scoped": is_scoped(officer), "picker": None, "scope": None,
            "kinds": [(k, _(v)) for k, v in KIND_LABELS.items()],
            "values": {"loai": loai or "health_declaration", "tu": tu or start.isoformat(),
                       "den": den or end.isoformat()},
        }
        try:
            scope, context["picker"] = await resolve(request, officer, region)
        except ScopeRefused:
            context["refused"] = True
            return None, context, 403
        except UnknownRegion:
            context["errors"]["region"] = _("Không tìm thấy địa bàn này.")
            return None, context, 404
        context["scope"] = scope
        kind = loai or "health_declaration"
        if kind not in KIND_LABELS:
            context["errors"]["loai"] = _("Vui lòng chọn loại dữ liệu.")
        try:
            start, end, _decision = local_arrivals.parse_range(
                tu or start.isoformat(), den or end.isoformat(), "", today=today)
        except FormErrors as caught:
            context["errors"].update({k: message(e) for k, e in caught.errors.items()})
        if context["errors"]:
            return None, context, 422
        since, until = local_arrivals.local_bounds(start, end)
        return (kind, scope, start, end, feeds.Window(scope.path, since, until)), context, 200

    @get("/", name="exports_admin.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer,
                   region: FromQuery[str | None] = None) -> Response:
        """The export form: what, which area, which days."""
        _query, context, status = await self._query(request, officer, None, region, None, None)
        return render(request, "exports_admin.html", context, status_code=status)

    @get("/tai-ve", name="exports_admin.download")
    async def download(self, request: HTMXRequest, officer: CurrentOfficer,
                       loai: FromQuery[str | None] = None, region: FromQuery[str | None] = None,
                       tu: FromQuery[str | None] = None,
                       den: FromQuery[str | None] = None) -> Response:
        """The CSV file, streamed; the form again (with the errors) when the filter is bad."""
        query, context, status = await self._query(request, officer, loai, region, tu, den)
        if query is None:
            return render(request, "exports_admin.html", context, status_code=status)
        kind, scope, start, end, window = query
        language = i18n.current_language.get()  # the export's language: the page's
        detail = {"kind": kind, "region": scope.code or "*", "from": start.isoformat(),
                  "to": end.isoformat()}

        async def rows():
            exported, complete = 0, False
            try:
                async for batch in feeds.batches(kind, window):
                    exported += len(batch)
                    yield await export_rows.csv_rows(kind, batch, language)
                complete = True
            finally:
                await audit.record("data.export", actor_kind="officer", actor_id=officer.id,
                                   place=officer.place,
                                   detail={**detail, "rows": exported, "complete": complete})

        headers = exports.attachment_headers(
            f"{FILE_STEMS[kind]}-{scope.code or 'tat-ca'}", start, end)
        return Stream(exports.aiter_csv(export_rows.header(kind, language), rows()),
                      media_type=exports.CONTENT_TYPE, headers=headers)
