"""Xoá dữ liệu định kỳ (/quan-tri/xoa-du-lieu): the retention purge's deletion reports, and a
button to run it now. The purge itself is in ``retention.py``."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import retention
from khaibao.core import audit
from khaibao.core.web import AppSettings, redirect, render
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/xoa-du-lieu"


class RetentionController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "retention"}
    dependencies = OFFICER_DEPENDENCY

    @get("/", name="retention.reports")
    async def reports(self, request: HTMXRequest, officer: CurrentOfficer,
                      xong: FromQuery[str | None] = None) -> Response:
        return render(request, "retention.html", {
            "runs": await retention.recent_runs(), "kinds": retention.KIND_LABELS,
            "done": xong == "1",
        })

    @post("/chay", name="retention.run")
    async def run_now(self, request: HTMXRequest, officer: CurrentOfficer,
                      settings: AppSettings) -> Response:
        report = await retention.purge(settings, trigger="admin")
        assert report is not None  # without a run_key the purge always runs
        await audit.record("retention.run", actor_kind="officer", actor_id=officer.id,
                           detail={"run": report.run_id, "deleted": report.total})
        return redirect(request, BASE + "?xong=1")

