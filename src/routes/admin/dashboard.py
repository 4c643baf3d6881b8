"""Tổng quan (/quan-tri/tong-quan): the administration dashboard — charts with text summaries
and tables of declarations, arrivals, checkpoint scans, check-ins and OTP sends.

Admins choose any area (or the whole deployment); local and health officials always see their
own area. Every number is counted by the database (see :mod:`dashboards`).
"""

from __future__ import annotations

import time

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import dashboard_charts, dashboards
from khaibao.core.i18n import gettext as _
from khaibao.core.web import render
from khaibao.routes.admin.scope import ScopeRefused, UnknownRegion, is_scoped, resolve
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard


def _days(raw: str | None) -> int:
    try:
        value = int(raw or dashboards.DEFAULT_PERIOD)
    except ValueError:
        return dashboards.DEFAULT_PERIOD
    return value if value in dashboards.PERIODS else dashboards.DEFAULT_PERIOD


class DashboardController(Controller):
    path = "/quan-tri/tong-quan"
    guards = [officer_guard]
    opt = {"permission": "dashboard"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="dashboard.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer,
                   region: FromQuery[str | None] = None,
                   ngay: FromQuery[str | None] = None) -> Response:
        """The dashboard for the chosen area and period (7, 30 or 90 days)."""
        days = _days(ngay)
        context = {"days": days, "periods": dashboards.PERIODS, "scoped": is_scoped(officer),
                   "board": None, "picker": None, "refused": False}
        try:
            scope, context["picker"] = await resolve(request, officer, region)
        except ScopeRefused:
            context["refused"] = True
            return render(request, "dashboard.html", context, status_code=403)
        except UnknownRegion:
            context["error"] = _("Không tìm thấy địa bàn này.")
            return render(request, "dashboard.html", context, status_code=404)
        started = time.perf_counter()
        board = await dashboards.board(scope, dashboards.period(days))
        context.update(board=board, scope=scope, charts=dashboard_charts.all_charts(board),
                       query_ms=round((time.perf_counter() - started) * 1000),
                       origin_name=dashboard_charts.origin_name)
        return render(request, "dashboard.html", context, block="board")
