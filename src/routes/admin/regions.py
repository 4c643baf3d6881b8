"""Quản trị địa bàn (/quan-tri/dia-ban) and the BHYT registry import (/quan-tri/bhyt).

Browse the tree with the region picker (a GET form), rename the chosen region, merge a
village into a sibling (a confirmation step shows how many references move), and import
villages from CSV. Uploads are multipart: these two handlers accept up to ``UPLOAD_LIMIT``
(the app's default body limit is far smaller).
"""

from __future__ import annotations

import asyncio
import codecs
import tempfile
from pathlib import Path
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.admin import region_admin
from khaibao.citizens import insurance
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.i18n import N_
from khaibao.core.web import AppSettings, redirect, render
from khaibao.regions import region_picker, regions
from khaibao.routes.citizens.person_form import message
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard

BASE = "/quan-tri/dia-ban"
INSURANCE_BASE = "/quan-tri/bhyt"
LEVELS = ("province", "ward", "village", "point")
UPLOAD_LIMIT = 5 * 1024 * 1024
DONE = ("doi-ten", "gop")




async def _saved_upload(form: Any, field: str = "file") -> Path:
    """The uploaded file written to a temporary path (the services read paths); InputError
    when nothing was chosen or the chosen file has nothing in it (0 bytes, or only a
    byte-order mark and blank lines)."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InputError("upload.missing", N_("Vui lòng chọn tệp CSV."))
    data = await upload.read()
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        raise InputError("upload.empty", N_("Tệp CSV trống."))
    handle = tempfile.NamedTemporaryFile(prefix="khaibao-upload-", suffix=".csv", delete=False)
    with handle:
        handle.write(data)
    return Path(handle.name)


class RegionsAdminController(Controller):
    path = BASE
    guards = [officer_guard]
    opt = {"permission": "regions"}
    dependencies = OFFICER_DEPENDENCY

    async def _page(self, request: HTMXRequest, *, code: str | None = None, picker=None,
                    status_code: int = 200, **extra: Any) -> Response:
        picker = picker or await region_picker.picker(levels=LEVELS, pick=code)
        region = picker.selected if picker else None
        if code and (region is None or region.code != code):
            region = await regions.get(code)
        kids = await regions.children(region.code) if region else []
        siblings = []
        if region and region.kind in region_admin.MERGEABLE_KINDS and region.parent_code:
            siblings = [v for v in await regions.children(region.parent_code)
                        if v.kind in region_admin.MERGEABLE_KINDS and v.code != region.code]
        ctx = {"picker": picker, "region": region, "children": kids, "siblings": siblings,
               "errors": {}, "new_name": region.name if region else "", "report": None,
               "plan": None, "merge_error": None, "import_error": None, "done": None,
               "mergeable": region is not None and region.kind in region_admin.MERGEABLE_KINDS}
        ctx.update(extra)
        return render(request, "admin_regions.html", ctx, block="regions_main",
                      status_code=status_code, headers={"Cache-Control": "no-store"})

    @get("/", name="admin_regions.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer,
                   ma: FromQuery[str | None] = None,
                   xong: FromQuery[str | None] = None) -> Response:
        query = request.query_params
        picker = None
        if not ma and any(key.startswith("region_") for key in query):
            picker = await region_picker.picker_from_form(query, "region", levels=LEVELS)
        return await self._page(request, code=ma, picker=picker,
                                done=xong if xong in DONE else None)

    @post("/doi-ten", name="admin_regions.rename")
    async def rename(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        form = await request.form()
        code, name = str(form.get("code", "")), str(form.get("name", ""))
        try:
            await region_admin.rename(code, name, by=officer.id)
        except FormErrors as caught:
            return await self._page(request, code=code, new_name=name, status_code=422,
                                    errors={k: message(e) for k, e in caught.errors.items()})
        except InputError as error:
            return await self._page(request, code=code, status_code=422,
                                    errors={"name": message(error)})
        return redirect(request, f"{BASE}?ma={code}&xong=doi-ten")

    @post("/gop", name="admin_regions.merge_plan")
    async def merge_plan(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """Step one: what would move; nothing changes yet."""
        form = await request.form()
        source, target = str(form.get("source", "")), str(form.get("target", ""))
        try:
            plan = await region_admin.plan_merge(source, target)
        except InputError as error:
            return await self._page(request, code=source, status_code=422,
                                    merge_error=message(error))
        return await self._page(request, code=source, plan=plan)

    @post("/gop/xac-nhan", name="admin_regions.merge")
    async def merge(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        form = await request.form()
        source, target = str(form.get("source", "")), str(form.get("target", ""))
        try:
            await region_admin.merge_villages(source, target, by=officer.id)
        except InputError as error:
            return await self._page(request, code=source, status_code=422,
                                    merge_error=message(error))
        return redirect(request, f"{BASE}?ma={target}&xong=gop")

    @post("/nhap", name="admin_regions.import", request_max_body_size=UPLOAD_LIMIT)
    async def import_villages(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        """CSV ``ward_code,name,kind``: all or nothing, errors with their line numbers."""
        try:
            path = await _saved_upload(await request.form())
        except InputError as error:
            return await self._page(request, status_code=422, import_error=message(error))
        try:
            report = await regions.import_villages_csv(path)
        finally:
            await asyncio.to_thread(path.unlink, True)
        return await self._page(request, report=report, status_code=200 if report.ok else 422)


class InsuranceAdminController(Controller):
    path = INSURANCE_BASE
    guards = [officer_guard]
    opt = {"permission": "regions"}
    dependencies = OFFICER_DEPENDENCY

    def _page(self, request: HTMXRequest, *, report=None, error: str | None = None,
              status_code: int = 200) -> Response:
        return render(request, "admin_insurance.html", {"report": report, "error": error},
                      status_code=status_code, headers={"Cache-Control": "no-store"})

    @get("/", name="admin_insurance.page")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer) -> Response:
        return self._page(request)

    @post("/", name="admin_insurance.import", request_max_body_size=UPLOAD_LIMIT)
    async def import_registry(self, request: HTMXRequest, officer: CurrentOfficer,
                              settings: AppSettings) -> Response:
        """CSV ``bhyt,full_name,birth_year,sex``: all or nothing (see :mod:`insurance`)."""
        try:
            path = await _saved_upload(await request.form())
        except InputError as error:
            return self._page(request, error=message(error), status_code=422)
        try:
            report = await insurance.import_csv(path, settings)
        finally:
            await asyncio.to_thread(path.unlink, True)
        return self._page(request, report=report, status_code=200 if report.ok else 422)
