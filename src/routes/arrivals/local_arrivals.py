"""Người đến địa bàn (/quan-tri/nguoi-den): arrivals into an officer's area, and their CSV.

Each row's requirement is the person's verdict now (``verdicts``, as at the checkpoint); the
measure at arrival is shown beside it when it differs. A local official sees only their own
subtree: asking for another area is refused (403) with
a message, never silently widened. Admins choose any area with the region picker (default:
the province). Every view and every export is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Stream

from khaibao.arrivals import local_arrivals
from khaibao.arrivals.local_arrivals import ArrivalFilter
from khaibao.checks.checks import COLOUR_LABELS
from khaibao.core import audit, clock, exports
from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.errors import FormErrors
from khaibao.core.i18n import current_language, gettext_in
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, render
from khaibao.officers.officers import OfficerView
from khaibao.regions import region_picker, regions
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard
from khaibao.verdicts import verdicts

PICKER_LEVELS = ("province", "ward", "village")
CSV_HEADER = (
    "Họ và tên", "Giấy tờ (che một phần)", "Nơi đi", "Nơi đã đi qua", "Ngày khởi hành",
    "Thời gian đến", "Nơi đến (phường/xã, thôn)", "Địa chỉ nơi đến", "Phương tiện",
    "Biển số / số hiệu", "Chốt kiểm soát", "Mục đích", "Yêu cầu hiện tại", "Biện pháp hiện tại",
    "Lý do", "Biện pháp khi đến", "Lý do khi đến",
)
CSV_LANGUAGE = "vi"  # the language of CSV_HEADER, and so of every cell under it


def current_of(settings: Settings, language: str | None = None) -> local_arrivals.CurrentOf:
    """The persons' verdicts at this moment, as at the checkpoint (from every phone that
    declared their ID number), one moment for the whole page or file; their reasons in
    ``language`` (default: the page's)."""
    now = clock.now()

    async def of(person_ids: list[int]) -> dict[int, verdicts.Verdict]:
        token = current_language.set(language or current_language.get())
        try:
            return await verdicts.verdicts_of(person_ids, settings, at=now,
                                              own_phone_only=False)
        finally:
            current_language.reset(token)

    return of


class ScopeRefused(Exception):
    """The officer asked for an area outside their own."""


async def _area(request: HTMXRequest, settings: Settings, officer: OfficerView, region: str | None
                ) -> tuple[regions.RegionView | None, Any]:
    """The area asked for (or the officer's own / the province) and, for officers who may
    choose, the picker showing it."""
    params = request.query_params
    scoped = not officer.is_admin and bool(officer.region_path)
    code = region or None
    if not scoped and any(f"region_{level}" in params for level in PICKER_LEVELS):
        state = await region_picker.picker_from_form(params, "region", levels=PICKER_LEVELS)
        code = state.selected.code if state and state.selected else None
    if code is None and scoped:
        assert officer.region_code is not None  # a region path comes with its region's code
        code = officer.region_code
    elif code is None:
        code = settings.province_code
    area = await regions.get(code)
    if area is not None and not officer.covers(area.path):
        raise ScopeRefused(code)
    picker = None
    if not scoped:
        picker = await region_picker.picker(levels=PICKER_LEVELS, pick=code)
    return area, picker


class LocalArrivalsController(Controller):
    path = "/quan-tri/nguoi-den"
    guards = [officer_guard]
    opt = {"permission": "arrivals"}
    dependencies = OFFICER_DEPENDENCY

    async def _filter(self, request: HTMXRequest, settings: Settings, officer: CurrentOfficer,
                      region: str | None, tu: str | None, den: str | None, ket_qua: str | None
                      ) -> tuple[ArrivalFilter | None, dict[str, Any], int]:
        """The filter, and the page context for when it cannot be used (status ≠ 200)."""
        today = local_arrivals.today_local()
        start, end = local_arrivals.default_range(today)
        context: dict[str, Any] = {
            "errors": {}, "area": None, "picker": None, "overview": None,
            "values": {"tu": tu or start.isoformat(), "den": den or end.isoformat(),
                       "ket_qua": ket_qua or ""},
            "filters": [(v, _(label)) for v, label in local_arrivals.DECISION_FILTERS],
        }
        try:
            area, context["picker"] = await _area(request, settings, officer, region)
        except ScopeRefused:
            context["refused"] = True
            return None, context, 403
        context["area"] = area
        if area is None:
            context["errors"]["region"] = _("Không tìm thấy địa bàn này.")
            return None, context, 404
        try:
            start, end, decision = local_arrivals.parse_range(tu, den, ket_qua, today=today)
        except FormErrors as caught:
            context["errors"] = {k: message(e) for k, e in caught.errors.items()}
            return None, context, 422
        return ArrivalFilter(area.code, area.path, start, end, decision), context, 200

    @get("/", name="local_arrivals.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   region: FromQuery[str | None] = None, tu: FromQuery[str | None] = None,
                   den: FromQuery[str | None] = None,
                   ket_qua: FromQuery[str | None] = None) -> Response:
        """The filter form, the counts by decision and the arrivals (at most 500 rows)."""
        query, context, status = await self._filter(request, settings, officer, region, tu, den,
                                                    ket_qua)
        if query is not None:
            overview = await local_arrivals.overview(query, current_of(settings))
            context.update(overview=overview, query=query,
                           export_params={"region": query.region_code,
                                          "tu": query.date_from.isoformat(),
                                          "den": query.date_to.isoformat(),
                                          "ket_qua": query.decision},
                           max_rows=local_arrivals.MAX_ROWS,
                           measures=local_arrivals.MEASURE_ORDER,
                           measure_names=dict(local_arrivals.DECISION_FILTERS),
                           colours=local_arrivals.COLOUR_ORDER, colour_labels=COLOUR_LABELS)
            await audit.record("arrivals.view", actor_kind="officer", actor_id=officer.id,
                               place=officer.place, detail={**query.audit_detail(),
                                                            "rows": len(overview.rows)})
        return render(request, "local_arrivals.html", context, block="results",
                      status_code=status)

    @get("/xuat.csv", name="local_arrivals.export")
    async def export(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                     region: FromQuery[str | None] = None, tu: FromQuery[str | None] = None,
                     den: FromQuery[str | None] = None,
                     ket_qua: FromQuery[str | None] = None) -> Response:
        """The same arrivals as a CSV file (every row, streamed)."""
        query, context, status = await self._filter(request, settings, officer, region, tu, den,
                                                    ket_qua)
        if query is None:
            return render(request, "local_arrivals.html", context, status_code=status)

        async def rows():
            exported, complete = 0, False
            try:
                async for batch in local_arrivals.batches(query, current_of(settings,
                                                                            CSV_LANGUAGE)):
                    exported += len(batch)
                    yield [_csv_row(arrival) for arrival in batch]
                complete = True
            finally:
                await audit.record("arrivals.export", actor_kind="officer", actor_id=officer.id,
                                   place=officer.place, detail={
                                       **query.audit_detail(), "rows": exported,
                                       "complete": complete})

        headers = exports.attachment_headers(f"nguoi-den-{query.region_code}",
                                             query.date_from, query.date_to)
        return Stream(exports.aiter_csv(CSV_HEADER, rows()), media_type=exports.CONTENT_TYPE,
                      headers=headers)


def _csv_row(arrival: local_arrivals.LocalArrival) -> list[str]:
    """One arrival, in the language of ``CSV_HEADER`` (Vietnamese, as every export is,
    whatever the language of the page it was asked from)."""
    now, then = arrival.current, arrival.at_arrival
    return [
        arrival.person_name, arrival.id_masked, arrival.origin_label,
        "; ".join(label for label in arrival.passed_labels if label),
        arrival.departure_date.strftime("%d/%m/%Y"),
        arrival.arrival_at.astimezone(LOCAL_TIMEZONE).strftime("%d/%m/%Y %H:%M"),
        arrival.destination_label, arrival.destination_detail, arrival.transport_label,
        arrival.vehicle_number, arrival.checkpoint_name, arrival.purpose,
        gettext_in(CSV_LANGUAGE, COLOUR_LABELS[now.colour]),
        arrival.describe_now(CSV_LANGUAGE), " ".join(now.reasons),
        then.describe(CSV_LANGUAGE), " ".join(then.reasons_in(CSV_LANGUAGE)),
    ]
