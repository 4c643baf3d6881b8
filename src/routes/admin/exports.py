"""Xuất dữ liệu (/quan-tri/xuat-du-lieu): CSV of health declarations, arrivals or check-ins
for an area and a range of days — streamed from the database in id order (bounded memory for
any size), cells neutralised against formula injection (:mod:`exports`), and every export
audited with who, which filter and how many rows (also when the download is cut short).

Local and health officials export only their own area; asking for another is refused (403).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Stream

from khaibao.admin import feeds
from khaibao.arrivals import local_arrivals
from khaibao.core import audit, db, exports
from khaibao.core.clock import LOCAL_TIMEZONE
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
PERSON_COLUMNS = ("Họ và tên", "Giấy tờ (che một phần)", "Năm sinh", "Giới tính", "Quốc tịch")
HEADERS = {
    "health_declaration": ("Mã", "Thời gian khai báo", "Kênh", "Địa bàn", *PERSON_COLUMNS,
                           "Có triệu chứng", "Triệu chứng", "Tiếp xúc", "Nơi đã đến"),
    "arrival": ("Mã", "Thời gian khai báo", "Thời gian đến", "Ngày khởi hành", "Nơi đi",
                "Nơi đến", "Địa chỉ nơi đến", *PERSON_COLUMNS, "Phương tiện",
                "Biển số / số hiệu", "Chốt kiểm soát", "Mục đích"),
    "check_in": ("Mã", "Thời gian vào", "Thời gian ra", "Điểm đến", "Địa chỉ điểm đến",
                 *PERSON_COLUMNS, "Cách check-in"),
}


def _local(value: Any) -> str:
    moment = db.aware(value) if value else None
    return moment.astimezone(LOCAL_TIMEZONE).strftime("%d/%m/%Y %H:%M") \
        if moment else ""


def _person(row: dict[str, Any]) -> list[Any]:
    return [row["full_name"], row["id_masked"] or "", row["birth_year"], row["sex"],
            row["nationality"]]


def csv_row(kind: str, row: dict[str, Any]) -> list[Any]:
    if kind == "health_declaration":
        return [row["id"], _local(row["t"]), row["channel"], row["region_code"] or "",
                *_person(row), "có" if row["has_symptoms"] else "không", row["symptoms"],
                row["exposures"], row["places_visited"]]
    if kind == "arrival":
        origin = row["origin_name"] or row["origin_country"]
        return [row["id"], _local(row["t"]), _local(row["arrival_at"]),
                str(row["departure_date"] or ""), origin, row["destination_name"],
                row["destination_detail"], *_person(row), row["transport"],
                row["vehicle_number"], row["checkpoint_name"] or "", row["purpose"]]
    return [row["id"], _local(row["t"]), _local(row["checked_out_at"]), row["venue_name"],
            row["venue_address"], *_person(row), row["by_kind"]]


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
        detail = {"kind": kind, "region": scope.code or "*", "from": start.isoformat(),
                  "to": end.isoformat()}

        async def rows():
            exported, complete = 0, False
            try:
                async for batch in feeds.batches(kind, window):
                    exported += len(batch)
                    yield [csv_row(kind, row) for row in batch]
                complete = True
            finally:
                await audit.record("data.export", actor_kind="officer", actor_id=officer.id,
                                   place=officer.place,
                                   detail={**detail, "rows": exported, "complete": complete})

        headers = exports.attachment_headers(
            f"{FILE_STEMS[kind]}-{scope.code or 'tat-ca'}", start, end)
        return Stream(exports.aiter_csv(HEADERS[kind], rows()), media_type=exports.CONTENT_TYPE,
                      headers=headers)
